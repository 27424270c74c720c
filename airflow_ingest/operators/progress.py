"""Progress lines for long work, so a task log shows how far a listing or a plan has got."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from airflow_ingest.pipeline.registering import Log

T = TypeVar("T")


def logged(items: Iterable[T], log: Log, what: str, every: int = 50_000) -> Iterator[T]:
    """Yield ``items`` unchanged, logging the count and rate every ``every`` items and at the end."""
    start = time.monotonic()
    count = 0
    for item in items:
        count += 1
        if count % every == 0:
            elapsed = time.monotonic() - start
            log.info("%s: %d so far (%.0f/s)", what, count, count / elapsed if elapsed else 0.0)
        yield item
    elapsed = time.monotonic() - start
    log.info("%s: %d in %.1f s", what, count, elapsed)
