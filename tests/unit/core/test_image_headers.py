"""Image size, type and EXIF orientation from header bytes (``core/image_headers.py``), on real files Pillow
makes here: every format, and what each costs in ranged reads.
"""

from __future__ import annotations

import struct

import pytest

from airflow_ingest.core.media import MediaKind
from airflow_ingest.core.probe import probe_with
from tests.media_samples import big_jpeg, fetcher, image_bytes, jpeg_with_big_exif

IMAGE_CASES = {
    "png": ("PNG", {}, "image/png"),
    "png palette": ("PNG", {"mode": "P"}, "image/png"),
    "jpeg": ("JPEG", {"quality": 80}, "image/jpeg"),
    "progressive jpeg": ("JPEG", {"progressive": True}, "image/jpeg"),
    "tiff": ("TIFF", {}, "image/tiff"),
    "tiff lzw": ("TIFF", {"compression": "tiff_lzw"}, "image/tiff"),
    "tiff big endian": ("TIFF", {"tiffinfo": {}, "big": True}, "image/tiff"),
    "bmp": ("BMP", {}, "image/bmp"),
    "gif": ("GIF", {}, "image/gif"),
    "webp lossy": ("WEBP", {"quality": 70}, "image/webp"),
    "webp lossless": ("WEBP", {"lossless": True}, "image/webp"),
    "webp alpha": ("WEBP", {"mode": "RGBA"}, "image/webp"),
}


@pytest.mark.parametrize("case", list(IMAGE_CASES))
@pytest.mark.parametrize("size", [(640, 480), (1, 1), (4097, 3)])
def test_every_image_format_gives_width_height_and_mime(case: str, size: tuple[int, int]) -> None:
    fmt, options, mime = IMAGE_CASES[case]
    options = dict(options)
    mode = str(options.pop("mode", "RGB"))
    big = options.pop("big", False)
    data = _big_endian_tiff(size) if big else image_bytes(fmt, size, mode=mode, **options)
    probe = probe_with(fetcher(data), len(data), f"x.{fmt.lower()}")
    assert (probe.info.kind, probe.info.mime, probe.info.width, probe.info.height) == (MediaKind.IMAGE, mime, *size)
    assert probe.info.size == len(data)
    assert probe.fetched <= min(len(data), 16384 + 4096)


def _big_endian_tiff(size: tuple[int, int]) -> bytes:
    """A hand-written big-endian (MM) TIFF whose IFD sits after the pixel data, as libtiff writes it."""
    width, height = size
    pixels = bytes(width * height)
    ifd_offset = 8 + len(pixels)
    ifd_offset += ifd_offset % 2
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8 << 16), (262, 3, 1, 1 << 16), (273, 4, 1, 8)]
    ifd = struct.pack(">H", len(entries))
    for tag, kind, count, value in entries:
        ifd += struct.pack(">HHII", tag, kind, count, value)
    ifd += struct.pack(">I", 0)
    body = b"MM\x00*" + struct.pack(">I", ifd_offset) + pixels
    return body + b"\x00" * (ifd_offset - len(body)) + ifd


def test_a_tiff_directory_at_the_end_is_read_without_the_pixels_between() -> None:
    data = _big_endian_tiff((3000, 2000))  # 6 MB of pixels before the directory
    reads: list[tuple[int, int]] = []
    probe = probe_with(fetcher(data, reads), len(data), "scan.tif")
    assert (probe.info.width, probe.info.height) == (3000, 2000)
    assert probe.fetched < 32 * 1024, reads
    assert len(reads) == 2


def test_a_jpeg_with_a_big_exif_block_costs_one_small_extra_read() -> None:
    data = jpeg_with_big_exif()
    assert len(data) > 60000
    reads: list[tuple[int, int]] = []
    probe = probe_with(fetcher(data, reads), len(data), "photo.jpg")
    assert (probe.info.width, probe.info.height, probe.info.orientation) == (800, 600, 6)
    assert probe.info.display_size == (600, 800)
    assert len(reads) == 2 and reads[0] == (0, 16384)
    assert reads[1][0] > 60000, "the second read starts past the EXIF block, not at the end of the first"
    assert probe.fetched <= 16384 + 4096


def test_a_20_mb_jpeg_is_probed_from_under_64_kb() -> None:
    data = big_jpeg()
    probe = probe_with(fetcher(data), len(data), "huge.jpg")
    assert probe.info.width and probe.info.width >= 2400
    assert probe.fetched < 64 * 1024
    print(f"20 MB JPEG ({len(data):,} bytes): {probe.fetched:,} bytes fetched in {probe.reads} reads")


def test_the_format_comes_from_the_bytes_not_the_name() -> None:
    data = image_bytes("PNG", (10, 20))
    assert probe_with(fetcher(data), len(data), "mislabelled.jpg").info.mime == "image/png"
