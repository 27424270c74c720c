"""The stored object: one file in a bucket, as every later stage sees it.

A plain slotted dataclass rather than a pydantic model: a run handles millions of them and they come from
the storage SDKs already typed, so validation would cost time and find nothing. Not ``frozen`` either, for
the same reason (a frozen dataclass costs five times as much to build); treat instances as immutable.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO


@dataclass(slots=True)
class StoredObject:
    """One object in cloud storage. ``url`` is the canonical ``scheme://container/key`` form.

    ``etag`` is the content's MD5 in hex where the backend gives one (S3 single-part uploads, GCS, Azure),
    so the same file has the same etag on every cloud; otherwise the backend's own etag.
    """

    url: str
    container: str
    key: str
    size: int
    etag: str
    last_modified: datetime
    content_type: str | None = None

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "url": self.url,
            "container": self.container,
            "key": self.key,
            "size": self.size,
            "etag": self.etag,
            "last_modified": format_timestamp(self.last_modified),
        }
        if self.content_type:
            data["content_type"] = self.content_type
        return data

    @classmethod
    def from_json(cls, data: dict[str, object]) -> StoredObject:
        return cls(
            url=str(data["url"]),
            container=str(data["container"]),
            key=str(data["key"]),
            size=int(data["size"]),  # type: ignore[call-overload]
            etag=str(data["etag"]),
            last_modified=parse_timestamp(str(data["last_modified"])),
            content_type=str(data["content_type"]) if data.get("content_type") else None,
        )


def format_timestamp(value: datetime) -> str:
    """UTC, second precision or finer, with a ``Z``: the form every platform and jq user expects."""
    if value.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no timezone; storage listings are always tz-aware")
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def parse_timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True, slots=True)
class ListingSummary:
    count: int
    bytes: int


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def write_objects(objects: Iterable[StoredObject], stream: IO[bytes]) -> ListingSummary:
    """Stream objects as gzipped JSON lines; memory stays at one object whatever the bucket holds."""
    count = 0
    total = 0
    with gzip.open(stream, "wt", encoding="utf-8", compresslevel=5) as out:
        for obj in objects:
            out.write(_encode(obj.to_json()))
            out.write("\n")
            count += 1
            total += obj.size
    return ListingSummary(count=count, bytes=total)


def read_objects(stream: IO[bytes]) -> Iterator[StoredObject]:
    """Read back what :func:`write_objects` wrote, one object at a time."""
    with gzip.open(stream, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield StoredObject.from_json(json.loads(line))
