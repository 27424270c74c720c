"""What the CLI tells a person on stderr while it works: a live counter of what streams past, and log lines.

stdout carries data only (``ls``'s JSON lines, the closing summary); everything here goes to stderr.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO

from airflow_ingest.core.objects import StoredObject


class Progress:
    """Counts what streams past and reports on stderr without slowing the stream down."""

    def __init__(self, what: str, stream: TextIO | None = None, every: float = 5.0) -> None:
        self.what = what
        self.stream = stream or sys.stderr
        self.every = every
        self.live = self.stream.isatty()
        self.count = 0
        self.bytes = 0
        self.started = time.monotonic()
        self._next = self.started + (0.2 if self.live else every)

    def track(self, objects: Iterable[StoredObject]) -> Iterator[StoredObject]:
        for obj in objects:
            self.count += 1
            self.bytes += obj.size
            if self.count & 1023 == 0 and time.monotonic() >= self._next:
                self._report()
            yield obj

    def _report(self) -> None:
        now = time.monotonic()
        rate = self.count / max(now - self.started, 1e-9)
        text = f"{self.what}: {self.count:,} objects, {human(self.bytes)} ({rate:,.0f}/s)"
        if self.live:
            self.stream.write(f"\r{text}\x1b[K")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self._next = now + (0.2 if self.live else self.every)

    def finish(self, complete: bool) -> None:
        seconds = time.monotonic() - self.started
        if self.live:
            self.stream.write("\r\x1b[K")
        state = "" if complete else "INCOMPLETE, stopped by the error below: "
        totals = f"{self.count:,} objects, {self.bytes:,} bytes ({human(self.bytes)})"
        self.stream.write(f"{self.what}: {state}{totals} in {seconds:.2f} s\n")
        self.stream.flush()


def stderr_log(what: str, stream: TextIO | None = None) -> logging.Logger:
    """A logger for the pipeline's lines (``Batch 2 (2 of 3 here): ...``), written as ``sync: ...`` on stderr.

    Its own handler on the stream of this call (a test's captured stderr too), not propagated to Airflow's.
    """
    log = logging.getLogger(f"airflow_ingest.cli.{what}")
    for handler in list(log.handlers):
        log.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(f"{what}: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return log


def human(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{size:,.1f} PB"
