"""What one object's probe, thumbnail or frame set came to: its facts or files, or why there are none.

Nothing crashes a run: a missing object, a refused read or a corrupt header becomes a result with a reason
and a ``retryable`` flag (whether a later run may succeed), which the plan turns into the item's failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.media_info import MediaInfo, ProbeError
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.storage.base import ReadFailure


class Failed(TypedDict):
    """The fields a result carries when its object failed (pass them on with ``**failed(error, fetched)``)."""

    failure: str
    retryable: bool
    bytes_fetched: int


def failed(error: BaseException, fetched: int = 0) -> Failed:
    """What one file's failure becomes in its result: the reason, whether a later run may succeed, and the
    bytes read before it failed.

    A refused or missing read says so itself; a file that is not what its name says (or a template that
    names the original) will fail the same way again; anything unexpected is worth another try.
    """
    if isinstance(error, ReadFailure):
        reason, retryable = str(error), error.retryable
    elif isinstance(error, (ProbeError, ConfigError)):
        reason, retryable = str(error), False
    else:
        reason, retryable = f"unexpected {type(error).__name__}: {error}", True
    return {"failure": reason, "retryable": retryable, "bytes_fetched": fetched}


@dataclass(frozen=True, slots=True, kw_only=True)
class PerObject:
    """What every per-object result says besides its facts or files: why there are none (``failure``), whether
    a later run may succeed (``retryable``), and how many bytes were read from storage for it."""

    failure: str | None = None
    retryable: bool = False
    bytes_fetched: int = 0


@dataclass(frozen=True, slots=True)
class Probed(PerObject):
    """One object's probe: its facts, or why there are none."""

    obj: StoredObject
    info: MediaInfo | None
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.info is not None


@dataclass(frozen=True, slots=True)
class ThumbnailResult(PerObject):
    """An object's thumbnail key (written or reused), or why it has none."""

    obj: StoredObject
    key: str | None
    reused: bool = False
    width: int | None = None
    height: int | None = None
    bytes_written: int = 0

    @property
    def ok(self) -> bool:
        return self.key is not None


@dataclass(frozen=True, slots=True)
class Section:
    """One Darwin read-only video section: a frame's index, size and hq/lq object keys."""

    index: int
    width: int
    height: int
    hq_key: str
    lq_key: str

    def to_json(self) -> dict[str, object]:
        return {"index": self.index, "width": self.width, "height": self.height, "hq": self.hq_key, "lq": self.lq_key}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Section:
        return cls(int(data["index"]), int(data["width"]), int(data["height"]), str(data["hq"]), str(data["lq"]))


@dataclass(frozen=True, slots=True)
class VideoFrames(PerObject):
    """A video's frame sets and thumbnail (written or reused), or why there are none.

    ``truncated`` says the video has more frames than ``max_frames`` allowed; keys are object keys in the
    video's container (Darwin wants Azure keys prefixed with the container; the manifest builder adds it).
    """

    obj: StoredObject
    thumbnail_key: str | None
    sections: tuple[Section, ...] = ()
    reused: bool = False
    truncated: bool = False
    bytes_written: int = 0

    @property
    def ok(self) -> bool:
        return self.thumbnail_key is not None
