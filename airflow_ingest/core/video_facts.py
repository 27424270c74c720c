"""A video's facts from ffprobe's JSON, and the MIME type of its container.

Running ffprobe is :mod:`airflow_ingest.media.tools`' job; this module only reads what it printed. Pure: no
Airflow, no network, no subprocess.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from airflow_ingest.core.media import MediaKind
from airflow_ingest.core.media_info import MediaInfo, ProbeError, header_float, header_int

_VIDEO_MIMES = {
    ".mp4": "video/mp4",
    ".m4v": "video/x-m4v",
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
    ".avi": "video/x-msvideo",
    ".hevc": "video/hevc",
    ".ts": "video/mp2t",
}


def video_mime(format_name: str, key: str, brand: str | None = None) -> str:
    """The MIME type for a container ffprobe names (``mov,mp4,...`` covers both, so the brand or suffix decides)."""
    suffix = "." + key.rpartition(".")[2].lower() if "." in key else ""
    if "mp4" in format_name.split(","):
        if (brand or "").strip() == "qt" or suffix == ".mov":
            return "video/quicktime"
        return "video/x-m4v" if suffix == ".m4v" else "video/mp4"
    if "matroska" in format_name:
        return "video/webm" if suffix == ".webm" else "video/x-matroska"
    if format_name == "avi":
        return "video/x-msvideo"
    if format_name == "mpegts":
        return "video/mp2t"
    return _VIDEO_MIMES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def parse_ffprobe(document: Mapping[str, Any] | str, *, size: int | None, key: str) -> MediaInfo:
    """A video's facts from ``ffprobe -print_format json -show_format -show_streams`` output.

    fps is the average frame rate (the real rate of variable-rate phone videos), falling back to the nominal
    ``r_frame_rate``; the frame count is ``nb_frames`` when the container records it, else duration x fps.
    """
    data: Mapping[str, Any] = json.loads(document) if isinstance(document, str) else document
    streams = [s for s in data.get("streams", []) if s.get("codec_type") == "video"]
    streams = [s for s in streams if not (s.get("disposition") or {}).get("attached_pic")] or streams
    if not streams:
        raise ProbeError("no video stream in the file")
    stream = streams[0]
    container = data.get("format") or {}
    fps = _rate(stream.get("avg_frame_rate")) or _rate(stream.get("r_frame_rate"))
    duration = header_float(container.get("duration")) or header_float(stream.get("duration"))
    width, height = header_int(stream.get("width")), header_int(stream.get("height"))
    if not width or not height:
        raise ProbeError("a video stream without width and height")
    frames = header_int(stream.get("nb_frames"))
    if not frames and duration and fps:
        frames = round(duration * fps)
    listed_size = header_int(container.get("size"))
    brand = (container.get("tags") or {}).get("major_brand")
    return MediaInfo(
        kind=MediaKind.VIDEO,
        mime=video_mime(str(container.get("format_name", "")), key, brand),
        size=size if size is not None else listed_size,
        width=width,
        height=height,
        fps=fps,
        duration=duration,
        frames=frames,
        rotation=_rotation(stream),
    )


def _rate(text: object) -> float | None:
    if not text or text in ("0/0", "0"):
        return None
    try:
        value = float(Fraction(str(text)))
    except (ValueError, ZeroDivisionError):
        return None
    return round(value, 6) if value > 0 else None


def _rotation(stream: Mapping[str, Any]) -> int | None:
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            return int(float(side["rotation"])) % 360 or None
    rotate = (stream.get("tags") or {}).get("rotate")
    return int(rotate) % 360 or None if rotate else None
