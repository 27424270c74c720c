"""Media facts from header bytes: image size and type, DICOM and NIfTI header fields, video facts from ffprobe.

Read-only Darwin registration needs ``width``/``height`` and Encord's strict client-only integrations need
``imageMetadata``/``videoMetadata``; reading whole files for that would cost a bucket's size in egress. So the
parsers here work on a :class:`Window` of the bytes fetched so far and, when a format needs bytes it does not
have, answer :class:`NeedMore` with the exact range (a JPEG's next marker after a 60 KB EXIF block, a TIFF's
IFD at the end of the file) instead of asking for everything up to it. :func:`probe_with` drives a fetch
callback until the answer is known; the storage side (``hooks/media.py``) supplies ranged reads.

Pure: no Airflow, no network. pydicom is imported only for DICOM (the ``media`` extra); NIfTI-1/2 headers are
read with ``struct`` so no numpy is needed. ``run_ffprobe`` runs the ``ffprobe`` program on a path or URL.
"""

from __future__ import annotations

import json
import mimetypes
import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from io import BytesIO
from typing import Any

from airflow_ingest.core.errors import IngestError
from airflow_ingest.core.media import MediaKind, media_kind


class ProbeError(IngestError):
    """The bytes are not a file of a kind we can read (or are cut short): probing again will not help."""


@dataclass(frozen=True, slots=True)
class DicomFields:
    """The DICOM header fields V7 orders slices by (in this order of significance), and the pixel grid."""

    series_number: int | None = None
    instance_number: int | None = None
    slice_location: float | None = None
    image_position: tuple[float, ...] | None = None
    rows: int | None = None
    columns: int | None = None
    frames: int | None = None
    series_uid: str | None = None
    modality: str | None = None

    def to_json(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__ if getattr(self, name) is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DicomFields:
        position = data.get("image_position")
        return cls(**{**data, "image_position": tuple(position) if position is not None else None})


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What a probe found. ``width``/``height`` are the stored pixel grid; ``orientation`` (EXIF, 1-8) and
    ``rotation`` (a video's display matrix, degrees) say how a viewer turns it, see :attr:`display_size`.

    ``frames`` is a video's frame count or a multi-frame DICOM's; ``shape`` is a NIfTI volume's dimensions.
    """

    kind: MediaKind
    mime: str
    size: int | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    duration: float | None = None
    frames: int | None = None
    orientation: int | None = None
    rotation: int | None = None
    shape: tuple[int, ...] | None = None
    dicom: DicomFields | None = None

    @property
    def display_size(self) -> tuple[int, int] | None:
        """(width, height) as a viewer shows it: swapped for EXIF orientations 5-8 and 90/270 degree videos."""
        if self.width is None or self.height is None:
            return None
        turned = (self.orientation or 1) >= 5 or (self.rotation or 0) % 180 == 90
        return (self.height, self.width) if turned else (self.width, self.height)

    def encord_image_metadata(self) -> dict[str, object]:
        """Encord's ``imageMetadata`` (private-cloud JSON spec): mimeType, fileSize, width, height."""
        if self.width is None or self.height is None or self.size is None:
            raise ProbeError(f"an {self.kind.value} without width, height and size cannot fill imageMetadata")
        return {"mimeType": self.mime, "fileSize": self.size, "width": self.width, "height": self.height}

    def encord_video_metadata(self) -> dict[str, object]:
        """Encord's ``videoMetadata``: fps, duration (s), width, height, file_size, mime_type."""
        if None in (self.fps, self.duration, self.width, self.height, self.size):
            raise ProbeError("a video without fps, duration, width, height and size cannot fill videoMetadata")
        return {
            "fps": self.fps,
            "duration": self.duration,
            "width": self.width,
            "height": self.height,
            "file_size": self.size,
            "mime_type": self.mime,
        }

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"kind": self.kind.value, "mime": self.mime}
        for name in ("size", "width", "height", "fps", "duration", "frames", "orientation", "rotation"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        if self.shape is not None:
            data["shape"] = list(self.shape)
        if self.dicom is not None:
            data["dicom"] = self.dicom.to_json()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MediaInfo:
        values = dict(data)
        values["kind"] = MediaKind(values["kind"])
        if "shape" in values:
            values["shape"] = tuple(values["shape"])
        if "dicom" in values:
            values["dicom"] = DicomFields.from_json(values["dicom"])
        return cls(**values)


def dicom_slice_key(fields: DicomFields | None, file_name: str) -> tuple[object, ...]:
    """V7's slice order: SeriesNumber, InstanceNumber, SliceLocation, ImagePositionPatient, file name.

    A missing field sorts after every present one, so a series with gaps still keeps its numbered slices first.
    """
    from airflow_ingest.core.items import natural_key

    fields = fields or DicomFields()

    def part(value: object) -> tuple[int, object]:
        return (1, 0) if value is None else (0, value)

    return (
        part(fields.series_number),
        part(fields.instance_number),
        part(fields.slice_location),
        part(fields.image_position),
        natural_key(file_name),
    )


# -- the window of fetched bytes ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NeedMore:
    """The bytes seen so far do not settle it: fetch ``length`` bytes (at least) from ``offset`` and probe again."""

    offset: int
    length: int


class _Missing(Exception):
    def __init__(self, offset: int, length: int) -> None:
        self.offset = offset
        self.length = length


class Window:
    """The parts of one file fetched so far, as sorted, merged ``(offset, bytes)`` runs.

    ``size`` (from the listing) lets a parser tell "not fetched yet" from "the file ends here".
    """

    def __init__(self, size: int | None = None, data: bytes = b"") -> None:
        self.size = size
        self._runs: list[tuple[int, bytes]] = []
        if data:
            self.add(0, data)

    def add(self, offset: int, data: bytes) -> None:
        if not data:
            return
        runs = [*self._runs, (offset, data)]
        runs.sort(key=lambda run: run[0])
        merged: list[tuple[int, bytes]] = []
        for start, chunk in runs:
            if merged and start <= merged[-1][0] + len(merged[-1][1]):
                first, joined = merged[-1]
                overlap = first + len(joined) - start
                merged[-1] = (first, joined + chunk[overlap:]) if overlap < len(chunk) else (first, joined)
            else:
                merged.append((start, chunk))
        self._runs = merged

    def get(self, offset: int, length: int) -> bytes:
        """Exactly ``length`` bytes at ``offset``; raises internally for bytes not fetched yet, ProbeError past EOF."""
        if self.size is not None and offset + length > self.size:
            raise ProbeError(f"the file ends at byte {self.size}, inside its header (wanted {offset}+{length})")
        for start, chunk in self._runs:
            if start <= offset and offset + length <= start + len(chunk):
                return chunk[offset - start : offset - start + length]
        raise _Missing(offset, length)

    def try_get(self, offset: int, length: int) -> bytes | None:
        """Like :meth:`get` but None when the bytes are not here: for facts worth having only if free."""
        try:
            return self.get(offset, length)
        except (_Missing, ProbeError):
            return None

    def prefix(self) -> bytes:
        """The contiguous bytes from offset 0 (for parsers that read a stream: pydicom, gzip)."""
        return self._runs[0][1] if self._runs and self._runs[0][0] == 0 else b""

    @property
    def complete(self) -> bool:
        """Whether the prefix is the whole file."""
        return self.size is not None and len(self.prefix()) >= self.size

    @property
    def fetched(self) -> int:
        return sum(len(chunk) for _, chunk in self._runs)


# -- images ---------------------------------------------------------------------------------------------------

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
            raise _Missing(base + offset, size)
        return data

    try:
        value = _tiff_tags(read).get(274)
    except (_Missing, ProbeError, struct.error):
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


_IMAGE_PARSERS: dict[str, Callable[[Window], MediaInfo]] = {
    "png": _png,
    "jpeg": _jpeg,
    "tiff": _tiff,
    "bmp": _bmp,
    "gif": _gif,
    "webp": _webp,
}


# -- DICOM and NIfTI ------------------------------------------------------------------------------------------


def _dicom(window: Window) -> MediaInfo:
    """The header through pydicom with ``stop_before_pixels``, on the contiguous bytes fetched so far.

    pydicom reads a cut-short element without complaint, so the header counts as whole only when the parse
    stopped before the end of the bytes (at the pixel data) or the bytes are the whole file.
    """
    try:
        import pydicom
        from pydicom.errors import InvalidDicomError
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise ProbeError("reading DICOM headers needs pydicom: install airflow-ingest[media]") from None
    head = window.prefix()
    grow = _Missing(len(head), max(len(head), 16384))
    stream = BytesIO(head)
    try:
        dataset = pydicom.dcmread(stream, stop_before_pixels=True, force=head[128:132] != b"DICM")
        at_end = stream.tell() >= len(head)
        if at_end and not window.complete:
            raise grow
        fields = DicomFields(
            series_number=_int(dataset.get("SeriesNumber")),
            instance_number=_int(dataset.get("InstanceNumber")),
            slice_location=_float(dataset.get("SliceLocation")),
            image_position=_floats(dataset.get("ImagePositionPatient")),
            rows=_int(dataset.get("Rows")),
            columns=_int(dataset.get("Columns")),
            frames=_int(dataset.get("NumberOfFrames")),
            series_uid=str(dataset.get("SeriesInstanceUID")) if dataset.get("SeriesInstanceUID") else None,
            modality=str(dataset.get("Modality")) if dataset.get("Modality") else None,
        )
    except _Missing:
        raise
    except (InvalidDicomError, EOFError, struct.error, ValueError, TypeError, KeyError, OSError) as error:
        if not window.complete:
            raise grow from None
        raise ProbeError(f"not a readable DICOM header ({type(error).__name__}: {error})") from None
    if fields.rows is None and fields.columns is None and fields.series_number is None and not fields.modality:
        raise ProbeError("a DICOM header with none of Modality, SeriesNumber, Rows or Columns")
    return MediaInfo(
        kind=MediaKind.DICOM,
        mime="application/dicom",
        size=window.size,
        width=fields.columns,
        height=fields.rows,
        frames=fields.frames,
        dicom=fields,
    )


def _int(value: object) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _float(value: object) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _floats(value: object) -> tuple[float, ...] | None:
    if value is None or value == "" or isinstance(value, (str, bytes)):
        return None
    try:
        return tuple(float(v) for v in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return None


def _nifti(window: Window, gzipped: bool) -> MediaInfo:
    """Dimensions from a NIfTI-1 (348-byte) or NIfTI-2 (540-byte) header, gunzipping a ``.nii.gz`` prefix."""
    raw = window.prefix()
    if gzipped:
        try:
            header = zlib.decompressobj(wbits=31).decompress(raw, 540)
        except zlib.error as error:
            raise ProbeError(f"a .nii.gz whose gzip stream is broken ({error})") from None
    else:
        header = raw
    needed = 348
    if len(header) >= 4:
        little = struct.unpack("<i", header[:4])[0]
        big = struct.unpack(">i", header[:4])[0]
        needed = 540 if 540 in (little, big) else 348
    if len(header) < needed:
        if window.complete:
            raise ProbeError(f"a NIfTI file shorter than its {needed}-byte header")
        raise _Missing(len(raw), 4096)
    order = "<" if struct.unpack("<i", header[:4])[0] in (348, 540) else ">"
    if needed == 348:
        if header[344:347] not in (b"n+1", b"ni1"):
            raise ProbeError("a NIfTI-1 header without the n+1/ni1 magic")
        dims = struct.unpack(order + "8h", header[40:56])
    else:
        if header[4:7] not in (b"n+2", b"ni2"):
            raise ProbeError("a NIfTI-2 header without the n+2/ni2 magic")
        dims = struct.unpack(order + "8q", header[16:80])
    rank = dims[0]
    if not 1 <= rank <= 7:
        raise ProbeError(f"a NIfTI header with {rank} dimensions")
    shape = tuple(int(d) for d in dims[1 : rank + 1])
    return MediaInfo(
        kind=MediaKind.NIFTI,
        mime="application/gzip" if gzipped else "application/octet-stream",
        size=window.size,
        width=shape[0],
        height=shape[1] if rank >= 2 else None,
        frames=shape[3] if rank >= 4 else None,
        shape=shape,
    )


# -- the driver -----------------------------------------------------------------------------------------------


def probe_header(window: Window, key: str = "") -> MediaInfo | NeedMore:
    """Probe an image, DICOM or NIfTI file from the bytes in ``window``, or say which bytes are still needed.

    The format comes from the magic bytes, not the name: a ``.jpg`` that is really a PNG is reported as PNG.
    Raises :class:`ProbeError` for bytes of no known format, a broken header, or a video/PDF (see
    :func:`parse_ffprobe`).
    """
    head = window.try_get(0, 132) or window.prefix()
    if len(head) < 132 and not window.complete:
        return NeedMore(len(head), 132 - len(head))
    name = sniff(head)
    try:
        if name in _IMAGE_PARSERS:
            return _IMAGE_PARSERS[name](window)
        if name == "dicom" or (name is None and media_kind(key) is MediaKind.DICOM):
            return _dicom(window)
        if name == "nifti" or (name == "gzip" and media_kind(key) is MediaKind.NIFTI):
            return _nifti(window, gzipped=name == "gzip")
    except _Missing as missing:
        return NeedMore(missing.offset, missing.length)
    except struct.error as error:
        raise ProbeError(f"a cut-short or malformed {name} header ({error})") from None
    kind = media_kind(key)
    if kind in (MediaKind.VIDEO, MediaKind.PDF):
        raise ProbeError(f"a {kind.value} is not probed from its header bytes")
    shown = head[:8].hex(" ")
    raise ProbeError(f"not a PNG, JPEG, TIFF, BMP, GIF, WebP, DICOM or NIfTI file (first bytes {shown})")


Fetch = Callable[[int, int], bytes]


@dataclass(slots=True)
class HeaderProbe:
    """The result of :func:`probe_with`: the facts and how many bytes it took to learn them."""

    info: MediaInfo
    fetched: int
    reads: int = field(default=0)


def probe_with(
    fetch: Fetch,
    size: int | None,
    key: str = "",
    *,
    first: int = 16384,
    chunk: int = 4096,
    limit: int = 8 << 20,
    max_reads: int = 32,
) -> HeaderProbe:
    """Probe by fetching ranges: ``fetch(offset, length)`` returns up to ``length`` bytes at ``offset``.

    Starts with ``first`` bytes, then fetches what :func:`probe_header` asks for, at least ``chunk`` bytes at a
    time (a round trip costs more than a few KB). Gives up with :class:`ProbeError` past ``limit`` bytes or
    ``max_reads`` reads: a header that long is a broken or hostile file, not one to probe.
    """
    window = Window(size)
    reads = 0

    def take(offset: int, length: int) -> None:
        nonlocal reads
        if size is not None:
            length = min(length, size - offset)
        if length <= 0:
            raise ProbeError(f"the file ends at byte {size}, inside its header")
        if window.fetched + length > limit:
            raise ProbeError(f"the header needs more than {limit} bytes; this is not a file to probe by its header")
        if reads >= max_reads:
            raise ProbeError(f"the header needs more than {max_reads} reads; this is not a file to probe by its header")
        data = fetch(offset, length)
        reads += 1
        if not data:
            raise ProbeError(f"the file ends at byte {offset}, inside its header")
        window.add(offset, data)
        if len(data) < length and window.size is None and offset == len(window.prefix()) - len(data):
            window.size = offset + len(data)  # a short read at the end tells the size

    take(0, first if size is None else min(first, size))
    while True:
        answer = probe_header(window, key)
        if isinstance(answer, MediaInfo):
            return HeaderProbe(answer, window.fetched, reads)
        take(answer.offset, max(answer.length, chunk))


# -- video ----------------------------------------------------------------------------------------------------

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
    duration = _float(container.get("duration")) or _float(stream.get("duration"))
    width, height = _int(stream.get("width")), _int(stream.get("height"))
    if not width or not height:
        raise ProbeError("a video stream without width and height")
    frames = _int(stream.get("nb_frames"))
    if not frames and duration and fps:
        frames = round(duration * fps)
    listed_size = _int(container.get("size"))
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
