"""Image size, type and EXIF orientation from header bytes: PNG, JPEG, TIFF/BigTIFF, BMP, GIF and WebP.

Each parser reads only the fields it needs from a :class:`~.media_info.Window` and raises
:class:`~.media_info.MissingBytes` for the exact bytes it still lacks (a JPEG's next marker after a large EXIF
block, a TIFF's directory at the end of the file), so the caller fetches those instead of everything up to
them. Pure: no Airflow, no network, no subprocess.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from airflow_ingest.core.media import MediaKind
from airflow_ingest.core.media_info import MediaInfo, MissingBytes, ProbeError, Window

IMAGE_MIMES = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "tiff": "image/tiff",
    "bmp": "image/bmp",
    "gif": "image/gif",
    "webp": "image/webp",
}


def sniff(head: bytes) -> str | None:
    """The format named by the first bytes (32 are enough): an image format, "dicom", "nifti", "gzip", or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head.startswith(b"BM") and len(head) >= 18 and struct.unpack_from("<I", head, 14)[0] in _BMP_HEADERS:
        return "bmp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[128:132] == b"DICM":
        return "dicom"
    if head[:4] in (b"\x5c\x01\x00\x00", b"\x00\x00\x01\x5c", b"\x1c\x02\x00\x00", b"\x00\x00\x02\x1c"):
        return "nifti"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    return None


_BMP_HEADERS = {12, 40, 52, 56, 64, 108, 124}


def _png(window: Window) -> MediaInfo:
    if window.get(12, 4) != b"IHDR":
        raise ProbeError("a PNG whose first chunk is not IHDR")
    width, height = struct.unpack(">II", window.get(16, 8))
    return _image("png", window, width, height)


def _gif(window: Window) -> MediaInfo:
    width, height = struct.unpack("<HH", window.get(6, 4))
    return _image("gif", window, width, height)


def _bmp(window: Window) -> MediaInfo:
    header = struct.unpack("<I", window.get(14, 4))[0]
    if header == 12:  # BITMAPCOREHEADER: 16-bit unsigned sizes
        width, height = struct.unpack("<HH", window.get(18, 4))
    else:  # BITMAPINFOHEADER and later: a negative height means rows stored top-down
        width, height = struct.unpack("<ii", window.get(18, 8))
    return _image("bmp", window, abs(width), abs(height))


def _webp(window: Window) -> MediaInfo:
    chunk = window.get(12, 4)
    if chunk == b"VP8X":  # extended: the canvas size, 24-bit little-endian minus one
        raw = window.get(24, 6)
        width = int.from_bytes(raw[0:3], "little") + 1
        height = int.from_bytes(raw[3:6], "little") + 1
    elif chunk == b"VP8 ":  # lossy: a key frame header, start code 9d 01 2a, then 14-bit sizes
        raw = window.get(23, 7)
        if raw[:3] != b"\x9d\x01\x2a":
            raise ProbeError("a lossy WebP without the VP8 key frame start code")
        width, height = (v & 0x3FFF for v in struct.unpack("<HH", raw[3:7]))
    elif chunk == b"VP8L":  # lossless: signature 0x2f, then 14-bit sizes minus one
        raw = window.get(20, 5)
        if raw[0] != 0x2F:
            raise ProbeError("a lossless WebP without the VP8L signature")
        bits = int.from_bytes(raw[1:5], "little")
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    else:
        raise ProbeError(f"a WebP whose first chunk is {chunk!r}, not VP8/VP8L/VP8X")
    return _image("webp", window, width, height)


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_STANDALONE = {0x01, 0xD8, *range(0xD0, 0xD8)}


def _jpeg(window: Window) -> MediaInfo:
    """Walk the marker segments to the frame header (SOFn), skipping each segment by its length.

    The skip is why a JPEG with a large EXIF or ICC block costs one extra small read, not the block: the
    next marker's position is known from the segment length, so only that position is asked for.
    """
    position = 2
    orientation = None
    while True:
        marker = window.get(position, 2)
        if marker[0] != 0xFF:
            raise ProbeError(f"a JPEG with no marker at byte {position}")
        if marker[1] == 0xFF:  # fill byte
            position += 1
            continue
        code = marker[1]
        if code in _STANDALONE:
            position += 2
            continue
        if code in (0xD9, 0xDA):
            raise ProbeError("a JPEG whose image data starts before any frame header (no SOF marker)")
        length = struct.unpack(">H", window.get(position + 2, 2))[0]
        if length < 2:
            raise ProbeError(f"a JPEG segment with length {length} at byte {position}")
        if code in _SOF:
            height, width = struct.unpack(">HH", window.get(position + 5, 4))
            if not width or not height:
                raise ProbeError("a JPEG whose frame header gives a zero width or height")
            return _image("jpeg", window, width, height, orientation)
        if code == 0xE1 and orientation is None:
            orientation = _exif_orientation(window, position + 4, length - 2)
        position += 2 + length


def _exif_orientation(window: Window, start: int, length: int) -> int | None:
    """The EXIF orientation from an APP1 segment, if its first IFD is among the bytes already fetched."""
    if window.try_get(start, 6) != b"Exif\x00\x00":
        return None
    base = start + 6

    def read(offset: int, size: int) -> bytes:
        if offset + size > length - 6:
            raise ProbeError("the EXIF block is shorter than its IFD")
        data = window.try_get(base + offset, size)
        if data is None:
            raise MissingBytes(base + offset, size)
        return data

    try:
        value = _tiff_tags(read).get(274)
    except (MissingBytes, ProbeError, struct.error):
        return None
    return value if value is not None and 1 <= value <= 8 else None


def _tiff(window: Window) -> MediaInfo:
    tags = _tiff_tags(window.get)
    width, height = tags.get(256), tags.get(257)
    if not width or not height:
        raise ProbeError("a TIFF whose first image directory has no ImageWidth or ImageLength")
    orientation = tags.get(274)
    return _image("tiff", window, width, height, orientation if orientation and 1 <= orientation <= 8 else None)


_TIFF_TYPES = {3: ("H", 2), 4: ("I", 4), 16: ("Q", 8)}  # SHORT, LONG, LONG8
_WANTED_TAGS = {256, 257, 274}  # ImageWidth, ImageLength, Orientation


def _tiff_tags(read: Callable[[int, int], bytes]) -> dict[int, int]:
    """Width, length and orientation from the first IFD of a TIFF (or BigTIFF) structure, wherever it sits."""
    header = read(0, 8)
    order = {b"II": "<", b"MM": ">"}.get(header[:2])
    if order is None:
        raise ProbeError("a TIFF structure without a II or MM byte order")
    version = struct.unpack(order + "H", header[2:4])[0]
    if version == 42:
        ifd = struct.unpack(order + "I", header[4:8])[0]
        count_format, entry_size, value_size = "H", 12, 4
    elif version == 43:
        ifd = struct.unpack(order + "Q", read(8, 8))[0]
        count_format, entry_size, value_size = "Q", 20, 8
    else:
        raise ProbeError(f"a TIFF structure of version {version}")
    count_size = struct.calcsize(count_format)
    count = struct.unpack(order + count_format, read(ifd, count_size))[0]
    if not 0 < count < 4096:
        raise ProbeError(f"a TIFF directory with {count} entries")
    entries = read(ifd + count_size, count * entry_size)
    tags: dict[int, int] = {}
    for index in range(count):
        entry = entries[index * entry_size : (index + 1) * entry_size]
        tag, kind = struct.unpack(order + "HH", entry[:4])
        if tag in _WANTED_TAGS and kind in _TIFF_TYPES:
            code, size = _TIFF_TYPES[kind]
            value_at = 4 + value_size  # after tag, type and the count field
            tags[tag] = struct.unpack(order + code, entry[value_at : value_at + size])[0]
    return tags


def _image(name: str, window: Window, width: int, height: int, orientation: int | None = None) -> MediaInfo:
    return MediaInfo(
        kind=MediaKind.IMAGE,
        mime=IMAGE_MIMES[name],
        size=window.size,
        width=width,
        height=height,
        orientation=orientation,
    )


IMAGE_PARSERS: dict[str, Callable[[Window], MediaInfo]] = {
    "png": _png,
    "jpeg": _jpeg,
    "tiff": _tiff,
    "bmp": _bmp,
    "gif": _gif,
    "webp": _webp,
}
