"""A video's facts from ffprobe's JSON and its container's MIME type (``core/video_facts.py``)."""

from __future__ import annotations

import json

import pytest

from airflow_ingest.core.media_info import ProbeError
from airflow_ingest.core.video_facts import parse_ffprobe, video_mime

FFPROBE_PHONE = {
    "streams": [
        {"codec_type": "audio", "sample_rate": "48000"},
        {
            "codec_type": "video",
            "width": 1920,
            "height": 1080,
            "avg_frame_rate": "30000/1001",
            "r_frame_rate": "30/1",
            "nb_frames": "872",
            "side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}],
        },
    ],
    "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "29.095000", "tags": {"major_brand": "qt  "}},
}


def test_ffprobe_json_becomes_encord_video_metadata() -> None:
    info = parse_ffprobe(json.dumps(FFPROBE_PHONE), size=5468354, key="clips/IMG_0001.MOV")
    assert info.encord_video_metadata() == {
        "fps": 29.97003,
        "duration": 29.095,
        "width": 1920,
        "height": 1080,
        "file_size": 5468354,
        "mime_type": "video/quicktime",
    }
    assert info.frames == 872 and info.rotation == 270 and info.display_size == (1080, 1920)


@pytest.mark.parametrize(
    ("format_name", "key", "mime"),
    [
        ("mov,mp4,m4a,3gp,3g2,mj2", "a.mp4", "video/mp4"),
        ("mov,mp4,m4a,3gp,3g2,mj2", "a.mov", "video/quicktime"),
        ("matroska,webm", "a.mkv", "video/x-matroska"),
        ("matroska,webm", "a.webm", "video/webm"),
        ("avi", "a.avi", "video/x-msvideo"),
        ("hevc", "a.hevc", "video/hevc"),
    ],
)
def test_video_mime_types(format_name: str, key: str, mime: str) -> None:
    assert video_mime(format_name, key) == mime


def test_a_file_without_a_video_stream_is_refused() -> None:
    with pytest.raises(ProbeError, match="no video stream"):
        parse_ffprobe({"streams": [{"codec_type": "audio"}], "format": {}}, size=1, key="a.mp4")
