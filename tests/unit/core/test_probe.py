"""The dispatcher over the header parsers (``core/probe.py``): it asks for exactly the bytes it lacks, and says
why when a header cannot be read or would cost too much.
"""

from __future__ import annotations

import pytest

from airflow_ingest.core.media_info import MediaInfo, NeedMore, ProbeError, Window
from airflow_ingest.core.probe import probe_header, probe_with
from tests.media_samples import fetcher, image_bytes, jpeg_with_big_exif


def test_the_window_asks_for_exactly_the_bytes_it_lacks() -> None:
    data = jpeg_with_big_exif()
    window = Window(len(data), data[:1000])
    answer = probe_header(window, "a.jpg")
    assert isinstance(answer, NeedMore) and answer.offset > 60000
    window.add(answer.offset, data[answer.offset : answer.offset + 4096])
    assert isinstance(probe_header(window, "a.jpg"), MediaInfo)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"hello world, this is text" * 10, "not a PNG, JPEG"),
        (image_bytes("PNG", (5, 5))[:20], "ends at byte 20"),
        (b"\xff\xd8\xff\xda" + b"\x00" * 200, "no SOF marker"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDX" + b"\x00" * 200, "not IHDR"),
        (b"", "ends at byte"),
    ],
)
def test_unreadable_headers_say_why(data: bytes, match: str) -> None:
    with pytest.raises(ProbeError, match=match):
        probe_with(fetcher(data), len(data), "x.png")


def test_a_probe_that_would_read_too_much_gives_up() -> None:
    data = b"\xff\xd8" + (b"\xff\xe2\xff\xff" + b"\x00" * 65533) * 200  # 13 MB of APP2 segments, no SOF
    with pytest.raises(ProbeError, match="more than 32 reads"):
        probe_with(fetcher(data), len(data), "x.jpg")
    with pytest.raises(ProbeError, match="more than 65536 bytes"):
        probe_with(fetcher(data), len(data), "x.jpg", limit=65536)
