"""The stored object: one file in a bucket, as every later stage sees it.

A plain slotted dataclass rather than a pydantic model: a run handles millions of them and they come from
the storage SDKs already typed, so validation would cost time and find nothing. Not ``frozen`` either, for
the same reason (a frozen dataclass costs several times as much to build; README, Benchmarks); treat
instances as immutable.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import chain, islice
from operator import attrgetter
from typing import IO

import msgspec


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


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(StoredObject)
_size = attrgetter("size")

CHUNK = 64
"""Objects encoded per call: enough that the call's cost vanishes per object, few enough that a filtered
listing's output is not held back (a pipe's buffer holds about as many lines)."""


def object_lines(objects: Iterable[StoredObject], chunk: int = CHUNK) -> Iterator[bytes]:
    """The objects as JSON lines (UTF-8), a chunk of lines at a time: what ``ls`` prints and the workspace holds.

    msgspec encodes the dataclass itself, in C: a dict per object and ``json.dumps`` were most of a fast
    listing's output cost. A line has the fields in :class:`StoredObject`'s order, ``content_type`` ``null``
    when unknown, and the timestamp in RFC 3339 (``Z`` for UTC, as listings give it). Objects listed before an
    error are written before it is raised.
    """
    items = iter(objects)
    while True:
        batch: list[StoredObject] = []
        try:
            for obj in items:
                batch.append(obj)
                if len(batch) == chunk:
                    break
        except Exception:  # a listing failing part way: what it listed is still written, then its error
            if batch:
                yield _ENCODER.encode_lines(batch)
            raise
        if not batch:
            return
        yield _ENCODER.encode_lines(batch)


def write_object_lines(objects: Iterable[StoredObject], out: IO[str]) -> None:
    """Write :func:`object_lines` to a text stream, to its byte buffer when it has one (standard output does)."""
    raw = getattr(out, "buffer", None)
    if raw is not None:
        out.flush()
        for lines in object_lines(objects):
            raw.write(lines)
        raw.flush()
    else:
        for lines in object_lines(objects):
            out.write(lines.decode("utf-8"))


def write_objects(objects: Iterable[StoredObject], stream: IO[bytes]) -> ListingSummary:
    """Stream objects as gzipped JSON lines; memory stays at one chunk whatever the bucket holds."""
    count = 0
    total = 0
    items = iter(objects)
    with gzip.open(stream, "wb", compresslevel=5) as out:
        while batch := list(islice(items, 1000)):
            out.write(_ENCODER.encode_lines(batch))
            count += len(batch)
            total += sum(map(_size, batch))
    return ListingSummary(count=count, bytes=total)


_BLOCK = 1 << 20
"""Characters read per block: about 4,000 listing lines, so per-block costs vanish per object."""

_EMPTY_TYPE = re.compile(r'"content_type"\s*:\s*""')


def read_objects(stream: IO[bytes]) -> Iterator[StoredObject]:
    """Read back what :func:`write_objects` wrote (or any JSON lines of these fields), one object at a time.

    Planning and ledger selection read millions of lines, so the text is read in blocks of about 4,000 lines and
    msgspec decodes a whole block into objects in C. A block msgspec refuses, or one whose object count is not
    its line count (a blank line, two objects on a line), or with an empty content type (None, as before), is
    read line by line with ``json.loads``, which gives what this function always gave, errors included. The text
    mode (UTF-8, universal newlines) is the one this function always used. Memory stays at one block. (A
    timestamp with more than six fractional digits, which no writer here makes, is rounded by msgspec where
    ``fromisoformat`` truncated.)
    """
    return chain.from_iterable(_object_blocks(stream))


def _object_blocks(stream: IO[bytes]) -> Iterator[Iterable[StoredObject]]:
    with gzip.open(stream, "rt", encoding="utf-8") as text:
        for block in line_blocks(text):
            yield _read_block(block, block.count("\n") + (not block.endswith("\n")))


def line_blocks(text: IO[str], size: int = _BLOCK) -> Iterator[str]:
    """``text`` in blocks of whole lines (each ends with a newline), read ``size`` characters at a time.

    Parsing a block at once is what makes reading millions of lines fast; a last line without its newline
    comes as a final block of its own, for the caller to accept or refuse.
    """
    tail = ""
    while block := text.read(size):
        if tail:
            block = tail + block
        cut = block.rfind("\n") + 1
        tail = block[cut:]
        if cut:
            yield block[:cut]
    if tail:
        yield tail


def _read_block(lines: str, count: int) -> Iterable[StoredObject]:
    """The objects on ``count`` lines of text (each ended by a newline, but for a file's last line)."""
    if '""' not in lines or not _EMPTY_TYPE.search(lines):
        try:
            decoded = _DECODER.decode_lines(lines)
        except msgspec.DecodeError:
            decoded = None
        if decoded is not None and len(decoded) == count:
            return decoded
    return (StoredObject.from_json(json.loads(line)) for line in lines.split("\n") if line.strip())
