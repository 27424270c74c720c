"""The ledger: what a sync target already holds, so a nightly run sends only what is new.

One entry per object registered (or found already there) on a platform target: its url, etag and item.
Entries are stored sorted by url, gzipped JSON lines, so choosing what to send is a streaming merge of
two sorted streams (the key-ordered listing and the ledger) in constant memory, however large both are.

Commits never edit a ledger in place. A run writes a new ledger file (the old entries merged with its
own registered and duplicate outcomes) and then a small ``HEAD.json`` naming it with its entry count and
SHA-256, in one write; object stores replace a small object atomically, so a reader sees the old ledger
or the new one, never half of one. A HEAD whose file is missing, short or altered is detected on read and
refused, not trusted.
"""

from __future__ import annotations

import gzip
import hashlib
import heapq
import json
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import IO, Any

from airflow_ingest.core.errors import IngestError
from airflow_ingest.core.objects import StoredObject


class LedgerError(IngestError):
    """A ledger that cannot be trusted; the message names the file and how to repair it."""


@dataclass(frozen=True, slots=True)
class Entry:
    url: str
    etag: str
    item: str

    def line(self) -> str:
        return json.dumps({"url": self.url, "etag": self.etag, "item": self.item}, ensure_ascii=False) + "\n"


class OnChange(str, Enum):
    """What to do with an object whose etag differs from the ledger's (the file was replaced)."""

    REPORT = "report"
    RESEND = "resend"


@dataclass(frozen=True, slots=True)
class Selection:
    counts: dict[str, int]
    changed: list[str]
    vanished: list[str]


def read_entries(stream: IO[bytes]) -> Iterator[Entry]:
    with gzip.open(stream, "rt", encoding="utf-8") as lines:
        for line in lines:
            data = json.loads(line)
            yield Entry(data["url"], data["etag"], data["item"])


def write_entries(entries: Iterable[Entry], stream: IO[bytes]) -> tuple[int, str]:
    """Write sorted entries; return their count and the SHA-256 of the gzipped bytes written."""
    digest = hashlib.sha256()
    count = 0

    class _Hashing:
        def write(self, data: bytes) -> int:
            digest.update(data)
            return stream.write(data)

        def flush(self) -> None:
            stream.flush()

    with gzip.GzipFile(fileobj=_Hashing(), mode="wb", compresslevel=5, mtime=0) as out:  # type: ignore[arg-type]
        previous = None
        for entry in entries:
            if previous is not None and entry.url <= previous:
                raise LedgerError(f"ledger entries out of order at {entry.url!r}: they must be sorted and unique")
            out.write(entry.line().encode("utf-8"))
            previous = entry.url
            count += 1
    return count, digest.hexdigest()


def select(
    objects: Iterable[StoredObject],
    ledger: Iterable[Entry],
    *,
    scope: str,
    exhaustive: bool = True,
    on_change: OnChange = OnChange.REPORT,
    keep: int = 1000,
) -> tuple[Iterator[StoredObject], Selection]:
    """The objects to send (new ones, and changed ones with ``resend``), merging two url-sorted streams.

    ``scope`` is the url prefix the listing covered (``s3://bucket/prefix``): ledger entries outside it
    are none of this run's business. ``exhaustive`` says the listing saw every object in scope (no
    filters); only then can an entry that was not listed be called vanished. ``selection`` fills in as the
    returned iterator is consumed, with counts and the first ``keep`` changed and vanished urls.
    """
    selection = Selection({"new": 0, "changed": 0, "unchanged": 0, "vanished": 0}, [], [])

    def note(kind: str, url: str, into: list[str]) -> None:
        selection.counts[kind] += 1
        if len(into) < keep:
            into.append(url)

    def gone(entry: Entry) -> None:
        if exhaustive:
            note("vanished", entry.url, selection.vanished)

    def merged() -> Iterator[StoredObject]:
        known = (entry for entry in ledger if entry.url.startswith(scope))
        current = next(known, None)
        for obj in objects:
            while current is not None and current.url < obj.url:
                gone(current)
                current = next(known, None)
            if current is not None and current.url == obj.url:
                if current.etag == obj.etag:
                    selection.counts["unchanged"] += 1
                else:
                    note("changed", obj.url, selection.changed)
                    if on_change is OnChange.RESEND:
                        yield obj
                current = next(known, None)
            else:
                selection.counts["new"] += 1
                yield obj
        while current is not None:
            gone(current)
            current = next(known, None)

    return merged(), selection


def merge_entries(old: Iterable[Entry], new: Iterable[Entry]) -> Iterator[Entry]:
    """Old entries updated with new ones (a new etag or item wins), both sorted by url, in one pass."""
    previous: Entry | None = None
    for entry in heapq.merge(old, new, key=lambda e: e.url):
        if previous is not None and previous.url != entry.url:
            yield previous
        previous = entry  # with equal urls the later one (from ``new``, merged second) wins
    if previous is not None:
        yield previous


def sorted_entries(entries: Iterable[Entry], chunk: int = 200_000) -> Iterator[Entry]:
    """Entries sorted by url in bounded memory: sorted chunks spill to temporary files, then merge.

    Items come out of the layouts in completion order and natural order, not url order; a first sync of
    millions of objects must not sort them all in memory.
    """
    with tempfile.TemporaryDirectory(prefix="airflow-ingest-ledger-") as tmp:
        runs: list[Path] = []
        buffer: list[Entry] = []

        def spill() -> None:
            path = Path(tmp) / f"{len(runs):06d}.pickle"
            with path.open("wb") as out:
                buffer.sort(key=lambda e: e.url)
                pickle.dump(buffer, out, protocol=pickle.HIGHEST_PROTOCOL)
            runs.append(path)
            buffer.clear()

        for entry in entries:
            buffer.append(entry)
            if len(buffer) >= chunk:
                spill()
        if not runs:
            yield from sorted(buffer, key=lambda e: e.url)
            return
        if buffer:
            spill()

        def load(path: Path) -> Iterator[Entry]:
            with path.open("rb") as stream:
                yield from pickle.load(stream)

        yield from heapq.merge(*(load(path) for path in runs), key=lambda e: e.url)


def head_document(path: str, count: int, sha256: str, run_id: str) -> dict[str, Any]:
    return {"ledger": path, "entries": count, "sha256": sha256, "run_id": run_id}
