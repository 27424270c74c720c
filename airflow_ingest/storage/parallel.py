"""Listing a prefix on many threads: each sub-prefix listed into a spool, merged back into key order.

Worth it on wide buckets over real networks, where each page costs tens of milliseconds: the pages of
different sub-prefixes are awaited at once. The spools (and their shared memory budget) also serve the S3
Inventory reader, which sorts a report's rows in runs (:mod:`airflow_ingest.storage.s3_inventory`).
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO

from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.urls import Source
from airflow_ingest.storage.base import Storage


def parallel_walk(storage: Storage, source: Source, prefix: str, workers: int) -> Iterator[StoredObject]:
    """List each sub-prefix on its own thread into a spool; yield everything back in key order.

    Sub-prefixes are disjoint key ranges, so their listings concatenate in order; objects directly under
    the prefix interleave with them and are merged in. A spool keeps its first pages in memory while a budget
    shared by all of them (:data:`SPOOL_PAGES` per thread) lasts, and writes the rest to a temporary file, so
    memory stays at about three pages per thread (~1 MB): the one being listed and the ones parked.
    """
    with tempfile.TemporaryDirectory(prefix="airflow-ingest-list-") as tmp:
        folder = Path(tmp)
        budget = _Budget(workers * SPOOL_PAGES * SPOOL_CHUNK)
        subprefixes: list[str] = []

        def direct() -> Iterator[StoredObject]:
            for entry in storage.level(source, prefix):
                if isinstance(entry, str):
                    subprefixes.append(entry)
                else:
                    yield entry

        direct_spool = Spool(folder / "direct.spool", budget)
        direct_spool.write(direct())
        subprefixes.sort()

        def spool_one(index: int, sub: str) -> Spool:
            spool = Spool(folder / f"{index:06d}.spool", budget)
            spool.write(storage.walk(source, sub))
            return spool

        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="airflow-ingest-list")
        try:
            futures = [pool.submit(spool_one, i, sub) for i, sub in enumerate(subprefixes)]
            if direct_spool.count:
                yield from heapq.merge(direct_spool.read(), _in_order(futures), key=_key)
            else:  # nothing directly under the prefix (the usual wide tree): the sub-listings are already in order
                yield from _in_order(futures)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _key(obj: StoredObject) -> str:
    return obj.key


def _in_order(futures: list[Future[Spool]]) -> Iterator[StoredObject]:
    for future in futures:
        yield from future.result().read()


SPOOL_CHUNK = 1000
SPOOL_PAGES = 2
"""Pages per listing thread parked in memory before spooling to disk: a sub-prefix of up to two pages, the
common case under a date or camera folder, then never costs the pickling (a tenth of a parallel listing's CPU)."""


class _Budget:
    """How many objects the spools of one parallel listing may still keep in memory, shared across threads."""

    def __init__(self, objects: int) -> None:
        self.left = objects
        self.lock = threading.Lock()

    def take(self, count: int) -> bool:
        with self.lock:
            if count > self.left:
                return False
            self.left -= count
            return True

    def give(self, count: int) -> None:
        with self.lock:
            self.left += count


class Spool:
    """One listing parked until the merge reaches it: chunks in memory while the budget allows, then a file.

    Memory first because the file costs CPU, under the GIL the listing threads share: a pickled chunk is a
    tuple built per object, pickled, unpickled and made a :class:`StoredObject` again. On disk each object is
    the tuple of its fields: pickling the slotted dataclass itself goes through Python-level
    ``__getstate__``/``__setstate__``, several times slower.
    Once a chunk goes to the file the rest follow, so reading is the memory chunks, then the file's.
    """

    def __init__(self, path: Path, budget: _Budget) -> None:
        self.path = path
        self.budget = budget
        self.held: list[list[StoredObject]] = []
        self.spilled = False
        self.count = 0

    def write(self, objects: Iterator[StoredObject]) -> None:
        out: IO[bytes] | None = None
        try:
            chunk: list[StoredObject] = []
            for obj in objects:
                chunk.append(obj)
                if len(chunk) == SPOOL_CHUNK:
                    out = self._park(chunk, out)
                    chunk = []
            if chunk:
                out = self._park(chunk, out)
        finally:
            if out is not None:
                out.close()

    def _park(self, chunk: list[StoredObject], out: IO[bytes] | None) -> IO[bytes] | None:
        self.count += len(chunk)
        if out is None and self.budget.take(len(chunk)):
            self.held.append(chunk)
            return None
        if out is None:
            out = self.path.open("wb")
            self.spilled = True
        rows = [(o.url, o.container, o.key, o.size, o.etag, o.last_modified, o.content_type) for o in chunk]
        pickle.dump(rows, out, protocol=pickle.HIGHEST_PROTOCOL)
        return out

    def read(self) -> Iterator[StoredObject]:
        while self.held:
            chunk = self.held.pop(0)
            yield from chunk
            self.budget.give(len(chunk))
        if not self.spilled:
            return
        with self.path.open("rb") as stream:
            while True:
                try:
                    rows = pickle.load(stream)
                except EOFError:
                    return
                for fields in rows:
                    yield StoredObject(*fields)
