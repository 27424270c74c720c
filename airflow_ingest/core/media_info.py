"""The vocabulary of probing: what a probe found (:class:`MediaInfo`), the window of header bytes fetched so
far (:class:`Window`), and how a parser asks for more (:class:`NeedMore`).

Shared by the header parsers (:mod:`.image_headers`, :mod:`.medical_headers`), the video facts
(:mod:`.video_facts`) and the dispatcher (:mod:`.probe`). Pure: no Airflow, no network, no subprocess.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from airflow_ingest.core.errors import IngestError
from airflow_ingest.core.media import MediaKind

N = TypeVar("N", int, float)


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


@dataclass(frozen=True, slots=True)
class NeedMore:
    """The bytes seen so far do not settle it: fetch ``length`` bytes (at least) from ``offset`` and probe again."""

    offset: int
    length: int


class MissingBytes(Exception):
    """Raised inside a parser for bytes not fetched yet; the dispatcher turns it into :class:`NeedMore`."""

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
        raise MissingBytes(offset, length)

    def try_get(self, offset: int, length: int) -> bytes | None:
        """Like :meth:`get` but None when the bytes are not here: for facts worth having only if free."""
        try:
            return self.get(offset, length)
        except (MissingBytes, ProbeError):
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


def header_int(value: object) -> int | None:
    """A header field as an int, or None when it is missing or not a number: a bad field is a missing fact."""
    return _number(value, int)


def header_float(value: object) -> float | None:
    """A header field as a float, or None when it is missing or not a number."""
    return _number(value, float)


def _number(value: object, kind: Callable[[str], N]) -> N | None:
    if value is None or value == "":
        return None
    try:
        return kind(str(value).strip())
    except ValueError:
        return None
