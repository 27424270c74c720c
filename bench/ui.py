"""Ingest view benchmark (issue 20): what the view's API pays to show a 100,000-item report.

A ``report.csv`` of 100,000 items (10,000 failed, 3,600 blocked: 13,600 problems to page) is written by the
project's own :class:`ReportWriter` into a local folder. Then, as the plugin's routes do:

1. **first view**: :func:`airflow_ingest.plugins.runs.read_index` opens it through ``ObjectStoragePath`` and
   indexes it (counts, bars, problems); the app caches the index, so only the first request pays this;
2. **a page**: 50 problems as the JSON the browser receives (``ReportIndex.page`` + ``json.dumps``), the first
   page and the last one;
3. **a search**: a substring that matches one item, and one that matches about a quarter of the problems,
   with an outcome filter, page 2.

Targets: first view < 3 s; a page or a search < 0.2 s; a page's JSON under 32 KB (the browser never receives the
report, which is about 11 MB). Each figure is the median (min-max) of 5 runs.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from airflow_ingest.core.outcomes import ReportRow, ReportWriter

REPO = Path(__file__).resolve().parents[1]
LOGS = REPO / "bench" / ".logs"
TARGET_FIRST_S = 3.0
TARGET_PAGE_S = 0.2
TARGET_PAGE_BYTES = 32 * 1024
REPEATS = 5


def outcome(n: int) -> tuple[str, str, bool]:
    if n % 10 == 3:
        return "failed", f"POST /api/v2/teams/t/items/register_existing gave up after 8 attempts: HTTP 503 ({n})", True
    if n % 25 == 4:
        return "blocked", "UNSUPPORTED_DICOM: more than one volume in the series", False
    return "registered", "", False


def write_report(path: Path, items: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as csv_out, path.with_suffix(".json").open("w") as json_out:
        writer = ReportWriter(csv_out, json_out)
        for n in range(items):
            kind, reason, retryable = outcome(n)
            key = f"site{n % 7}/2026-11-{n % 28 + 1:02d}/cam{n % 4}/frame_{n:07d}.jpg"
            row = ReportRow(f"/{key}", f"s3://bench-bucket/{key}", "darwin", kind, reason, retryable, n // 100 + 1)
            writer.add(row)
        writer.close()


def timed(action: Callable[[], Any]) -> tuple[dict[str, float], Any]:
    times, result = [], None
    for _ in range(REPEATS):
        began = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - began)
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}, result


def run(quick: bool = False) -> dict[str, Any]:
    from airflow_ingest.plugins.runs import read_index

    items = 20_000 if quick else 100_000
    LOGS.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="ui-", dir=LOGS))
    try:
        report = folder / "report.csv"
        write_report(report, items)
        report_bytes = report.stat().st_size
        first, index = timed(lambda: read_index(f"file://{report}"))
        pages = index.page(size=50)["pages"]
        page_one, body = timed(lambda: json.dumps(index.page(page=1, size=50)))
        page_last, _ = timed(lambda: json.dumps(index.page(page=pages, size=50)))
        one, found = timed(lambda: index.page(query=f"frame_{items - 7:07d}", size=50))
        many, wide = timed(lambda: index.page(query="cam1/", outcome="failed", page=2, size=50))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if len(found["rows"]) != 1 or wide["total"] != sum(1 for n in range(items) if n % 10 == 3 and n % 4 == 1):
        raise AssertionError(f"the search found {found['total']} and {wide['total']} items, not what was written")
    page_s = max(page_one["median"], page_last["median"], one["median"], many["median"])
    met: dict[str, bool | None] = {
        "first_view": None if quick else first["median"] < TARGET_FIRST_S,
        "page": page_s < TARGET_PAGE_S,
        "page_bytes": len(body) < TARGET_PAGE_BYTES,
    }
    return {
        "ui_report_view": {
            "command": "make bench" + (" (quick)" if quick else ""),
            "items": items,
            "problems": index.page()["total"],
            "report_bytes": report_bytes,
            "first_view_s": first,
            "page_1_s": page_one,
            "last_page_s": page_last,
            "search_one_s": one,
            "search_quarter_s": many,
            "page_json_bytes": len(body),
            "target": f"first view <{TARGET_FIRST_S:g} s, page/search <{TARGET_PAGE_S:g} s, page <32 KB",
            "met": met,
        }
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
