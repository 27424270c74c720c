"""Ledger size and the cost of a nightly commit (issue 17, section 4).

A ledger of ``entries`` objects (the keys and etags of :mod:`bench.ledger`) is committed once to a local state
folder, then a night's commit of ``new`` more entries is timed: it reads and checks the whole current file,
merges, writes a new file and swaps the head. The figures are bytes per entry of the gzipped file (what a
10M-object ledger weighs, by proportion) and the commit's time (a night's cost grows with the ledger's size:
every commit rewrites it). A commit with nothing new is timed too: it writes nothing.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.ledger import BUCKET, LOGS, ledger_entries


def run(quick: bool = False) -> dict[str, Any]:
    from airflow_ingest.core.ledger import Entry
    from airflow_ingest.core.ledger_head import Destination
    from airflow_ingest.pipeline.ledger_store import LedgerStore

    entries, new = (100_000, 1_000) if quick else (1_000_000, 10_000)
    LOGS.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="ledger-commit-", dir=LOGS))
    destination = Destination("darwin", "team", "dataset", "storage", f"s3://{BUCKET}")
    try:
        store = LedgerStore(str(folder), "sync", destination)
        started = time.perf_counter()
        head = store.commit("first", ledger_entries(entries))
        first_s = time.perf_counter() - started
        size = (folder / "sync" / head["ledger"]).stat().st_size
        night = [Entry(f"s3://{BUCKET}/new/{i:08d}.jpg", f"{i:032x}", f"new/{i:08d}.jpg") for i in range(new)]
        started = time.perf_counter()
        after = store.commit("night", night)
        night_s = time.perf_counter() - started
        started = time.perf_counter()
        same = store.commit("quiet night", [])
        quiet_s = time.perf_counter() - started
        files = sorted(p.name for p in (folder / "sync").iterdir() if p.name.startswith("ledger-"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    per_entry = size / head["entries"]
    return {
        "ledger_commit": {
            "command": "make bench",
            "entries": head["entries"],
            "bytes": size,
            "bytes_per_entry": per_entry,
            "ten_million_mb": per_entry * 10_000_000 / 1e6,
            "first_commit_s": first_s,
            "night_new": new,
            "night_commit_s": night_s,
            "night_commit_10m_s_extrapolated": night_s * 10_000_000 / head["entries"],
            "quiet_commit_s": quiet_s,
            "quiet_commit_wrote_nothing": same["ledger"] == after["ledger"],
            "files_after": len(files),
            "met": None,
        }
    }


def row(result: dict[str, Any]) -> tuple[str, str, str]:
    details = (
        f"{result['entries']:,} entries: {result['bytes'] / 1e6:.1f} MB gzipped, 10M = {result['ten_million_mb']:.0f} "
        f"MB; a night of {result['night_new']:,} new: {result['night_commit_s']:.1f} s (10M: about "
        f"{result['night_commit_10m_s_extrapolated']:.0f} s); nothing new: {result['quiet_commit_s']:.2f} s, no file"
    )
    return f"{result['bytes_per_entry']:.1f} B/entry", "n/a (a figure)", details
