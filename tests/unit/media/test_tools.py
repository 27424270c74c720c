"""The ffprobe and ffmpeg calls (``media/tools.py``) on a short video made with ffmpeg, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_ingest.core.media_info import ProbeError
from airflow_ingest.core.video_facts import parse_ffprobe
from airflow_ingest.media.tools import extract_frames, run_ffprobe
from tests.media_samples import make_video, needs_ffmpeg


@needs_ffmpeg
@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv"])
def test_ffprobe_on_a_real_video(tmp_path: Path, suffix: str) -> None:
    video = make_video(tmp_path / f"clip{suffix}", seconds=2, fps=10, size="320x240")
    info = parse_ffprobe(run_ffprobe(str(video)), size=video.stat().st_size, key=video.name)
    assert (info.width, info.height, info.fps) == (320, 240, 10.0)
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert info.frames == 20
    assert info.mime == {".mp4": "video/mp4", ".mov": "video/quicktime", ".mkv": "video/x-matroska"}[suffix]


@needs_ffmpeg
def test_ffprobe_says_why_it_cannot_read(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 1000)
    with pytest.raises(ProbeError, match="ffprobe could not read"):
        run_ffprobe(str(broken))


@needs_ffmpeg
def test_frames_hq_and_lq_with_a_cap(tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", seconds=2, fps=10, size="320x240")
    frames = extract_frames(video, tmp_path / "frames", max_frames=5)
    assert [f.index for f in frames] == [1, 2, 3, 4, 5]
    for frame in frames:
        assert (frame.width, frame.height) == (320, 240)
        assert frame.hq.read_bytes()[:3] == frame.lq.read_bytes()[:3] == b"\xff\xd8\xff"
        assert frame.lq.stat().st_size < frame.hq.stat().st_size
    sampled = extract_frames(video, tmp_path / "sampled", max_frames=100, fps=2)
    assert len(sampled) == 4


def test_missing_ffmpeg_is_named(tmp_path: Path) -> None:
    with pytest.raises(ProbeError, match="apt-get install ffmpeg"):
        run_ffprobe("x.mp4", ffprobe="no-such-ffprobe")
    with pytest.raises(ProbeError, match="apt-get install ffmpeg"):
        extract_frames("x.mp4", tmp_path, max_frames=1, ffmpeg="no-such-ffmpeg")
