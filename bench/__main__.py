"""`make bench`: run every benchmark, write bench/results.json and print a table.

Absolute times drift on shared machines; the ratios, measured side by side in one run, are the figures.
``--quick`` runs smaller sizes for a smoke test.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from typing import Any

from bench import listing, plan
from tests.harness import REPO

RESULTS = REPO / "bench" / "results.json"


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def verdict(met: bool | None) -> str:
    return "n/a" if met is None else "met" if met else "MISSED"


def plan_row(result: dict[str, Any]) -> tuple[str, str, str]:
    """A plan case: the smaller size's median time is the figure; memory and scaling go in the details.

    Its target reads in full in results.json; the column only has room for the short form.
    """
    met = result["met"]
    figure = f"{result['seconds']['median']:.2f} s"
    details = (
        f"{result['objects']:,} objects, {result['batches']:,} batches: {result['objects_per_s']:,.0f} objects/s "
        f"[{verdict(met['seconds'])}], peak {result['peak_rss_mb']:.0f} MB [{verdict(met['peak_rss'])}], "
        f"{result['scaled']['objects']:,}/{result['objects']:,} {result['ratio']:.2f}x [{verdict(met['ratio'])}]"
    )
    return figure, "<10 s, <300 MB, <=2.2x", details


def table(results: dict[str, Any]) -> str:
    lines = [f"{'benchmark':<28}{'figure':>12}  {'target':<24}details"]
    for name, result in results.items():
        target = result["target"]
        if "peak_rss_mb" in result:
            figure, target, details = plan_row(result)
        elif "ratio" in result:
            figure = f"{result['ratio']:.2f}x time"
            details = (
                f"{result['objects']:,} objects: ours {result['airflow_ingest_s']['median']:.2f} s, "
                f"raw paginator {result['raw_paginator_s']['median']:.2f} s"
            )
        else:
            figure = f"{result['gain']:.2f}x faster"
            details = (
                f"{result['objects']:,} objects, {result['server']}: sequential "
                f"{result['sequential_s']['median']:.2f} s, 16 threads {result['parallel_16_s']['median']:.2f} s"
            )
        lines.append(f"{name:<28}{figure:>12}  {target:<24}{details}")
    return "\n".join(lines)


def main() -> int:
    quick = "--quick" in sys.argv
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")
    started = time.monotonic()
    results = listing.run(quick=quick)
    results.update(plan.run(quick=quick))
    document = {"machine": machine(), "quick": quick, "seconds": round(time.monotonic() - started, 1), **results}
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    print(table(results))
    print(f"\nwritten to {RESULTS} in {document['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
