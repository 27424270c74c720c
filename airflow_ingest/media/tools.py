"""The ffprobe and ffmpeg calls: the only subprocesses of probing and thumbnails.

A missing tool, a timeout or a failure becomes a :class:`~airflow_ingest.core.media_info.ProbeError` naming
the fix or the tool's last line, so one bad video becomes one file's failure, not a crashed run. The tools get
a local path or a URL (see :func:`airflow_ingest.media.proxy.video_source`); what they print is read by
:mod:`airflow_ingest.core.video_facts` and :mod:`airflow_ingest.core.probe`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.media_info import MediaInfo, ProbeError, Window
from airflow_ingest.core.probe import probe_header


def run_ffprobe(source: str, *, ffprobe: str = "ffprobe", timeout: float = 120.0) -> dict[str, Any]:
    """Run ffprobe on a local path or an http(s) URL and return its JSON; errors as :class:`ProbeError`."""
    args = ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", source]
    return dict(json.loads(run_media_tool(ffprobe, args, "read the video", timeout) or b"{}"))


def run_media_tool(tool: str, args: list[str], doing: str, timeout: float) -> bytes:
    """Run ffprobe or ffmpeg and return its stdout; a missing tool, a timeout or a failure is a :class:`ProbeError`
    naming the fix or ffmpeg's last line, so one bad video becomes one file's failure, not a crashed run."""
    program = shutil.which(tool)
    if program is None:
        raise ProbeError(f"{tool!r} is not installed: on Debian or Ubuntu run `apt-get install ffmpeg`")
    try:
        done = subprocess.run([program, *args], capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ProbeError(f"{tool} took longer than {timeout:g} s to {doing}") from None
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        raise ProbeError(f"{tool} could not {doing}: {lines[-1] if lines else done.returncode}")
    return done.stdout


# -- video frames ---------------------------------------------------------------------------------------------

HQ_QSCALE = 2  # ffmpeg's JPEG scale: 2 is near-lossless, for annotating a paused frame
LQ_QSCALE = 15  # for playback, where frames fly by


@dataclass(frozen=True, slots=True)
class Frame:
    """One extracted frame: Darwin's ``section_index`` (1-based), both files, and their size in pixels."""

    index: int
    hq: Path
    lq: Path
    width: int
    height: int


def extract_frames(
    source: str | Path,
    folder: Path,
    *,
    max_frames: int,
    fps: float | None = None,
    ffmpeg: str = "ffmpeg",
    timeout: float = 600.0,
) -> list[Frame]:
    """Extract up to ``max_frames`` frames of a video (a path or URL) as hq and lq JPEGs into ``folder``.

    One decode feeds both outputs. Without ``fps`` every frame is kept as stored (``-fps_mode passthrough``,
    no duplicated or dropped frames); with it, frames are sampled at that rate. ffmpeg applies the display
    rotation, so the frames' sizes are read back from the files rather than taken from the stream.
    Both qualities keep the full size, so annotations line up whichever one the viewer shows.
    """
    if max_frames < 1:
        raise ConfigError("max_frames", max_frames, "extract at least one frame")
    hq_dir, lq_dir = folder / "hq", folder / "lq"
    hq_dir.mkdir(parents=True, exist_ok=True)
    lq_dir.mkdir(parents=True, exist_ok=True)
    sampling = ["-vf", f"fps={fps:g}"] if fps else ["-fps_mode", "passthrough"]
    common = ["-map", "0:v:0", *sampling, "-frames:v", str(max_frames), "-f", "image2"]
    args = ["-nostdin", "-v", "error", "-y", "-i", str(source)]
    args += [*common, "-q:v", str(HQ_QSCALE), str(hq_dir / "%06d.jpg")]
    args += [*common, "-q:v", str(LQ_QSCALE), str(lq_dir / "%06d.jpg")]
    run_media_tool(ffmpeg, args, "extract frames", timeout)
    frames = []
    for hq in sorted(hq_dir.glob("*.jpg")):
        lq = lq_dir / hq.name
        if not lq.exists():
            raise ProbeError(f"ffmpeg wrote {hq.name} in high quality but not in low quality")
        with hq.open("rb") as stream:
            window = Window(hq.stat().st_size, stream.read(65536))
        info = probe_header(window, hq.name)
        if not isinstance(info, MediaInfo) or info.width is None or info.height is None:
            raise ProbeError(f"ffmpeg wrote a frame whose size cannot be read: {hq.name}")
        frames.append(Frame(index=int(hq.stem), hq=hq, lq=lq, width=info.width, height=info.height))
    if not frames:
        raise ProbeError("ffmpeg extracted no frames: the video has no decodable picture")
    return frames
