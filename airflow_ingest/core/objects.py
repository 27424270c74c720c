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
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import chain
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


_BLOCK = 1 << 20
"""Characters read per block: about 4,000 listing lines, so per-block costs vanish per object."""

_STRING = r'"([^"\\\x00-\x1f]*)"'
"""A JSON string with no quote, backslash or control character in it: nothing escaped, so its text is its value."""

_PLAIN_LINE = re.compile(
    rf'^\{{"url":{_STRING},"container":{_STRING},"key":{_STRING},"size":(0|[1-9][0-9]*),"etag":{_STRING}'
    rf',"last_modified":{_STRING}(?:,"content_type":{_STRING})?\}}$',
    re.MULTILINE,
)
"""A line exactly as :func:`write_objects` writes it when no string needs an escape: almost every line.
No part of it can match a newline, so a match is always one whole line."""

_parse_time = datetime.fromisoformat if sys.version_info >= (3, 11) else parse_timestamp
""":func:`parse_timestamp` without its ``replace``: from 3.11 ``fromisoformat`` reads the ``Z`` itself."""

_NONE_IF_EMPTY = {"": None}
"""``_NONE_IF_EMPTY.get(text, text)``: an absent or empty content type is None, as :meth:`StoredObject.from_json`
has it, in a ``map`` rather than a Python-level call per object."""


def read_objects(stream: IO[bytes]) -> Iterator[StoredObject]:
    """Read back what :func:`write_objects` wrote, one object at a time.

    Planning and ledger selection read millions of lines, and ``json.loads``, a dict and a generator step per
    line were most of their time (before and after: README, Benchmarks). So the text is read in blocks of
    about 4,000 lines, one regular expression in C matches every line of a block in :func:`write_objects`'s
    own shape with no escape in any string, and ``map`` builds the objects from its columns, the blocks
    chained in C. When every line of a block matches, the values are exactly what ``json.loads`` would give.
    Otherwise (a key with a quote or backslash, a blank line, a line another writer formatted, a corrupt line)
    that block is read line by line as before, with the same results and the same errors. The text mode
    (UTF-8, universal newlines) is the one this function always used. Memory stays at one block.
    """
    return chain.from_iterable(_object_blocks(stream))


def _object_blocks(stream: IO[bytes]) -> Iterator[Iterable[StoredObject]]:
    with gzip.open(stream, "rt", encoding="utf-8") as text:
        for block in line_blocks(text):
            yield _read_block(block, block.count("\n") or 1)


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
    """The objects on ``count`` whole lines of text (each ended by a newline, but for a file's last line)."""
    rows = _PLAIN_LINE.findall(lines)
    if rows and len(rows) == count:  # each match is one whole line, so equal counts mean every line matched
        urls, containers, keys, sizes, etags, times, types = zip(*rows, strict=True)
        return map(
            StoredObject,
            urls,
            containers,
            keys,
            map(int, sizes),
            etags,
            map(_parse_time, times),
            map(_NONE_IF_EMPTY.get, types, types),
        )
    return (StoredObject.from_json(json.loads(line)) for line in lines.split("\n") if line.strip())
