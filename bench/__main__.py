"""`make bench`: run every benchmark, write bench/results.json and print a table.

Absolute times drift on shared machines; the ratios, measured side by side in one run, are the figures.
``--quick`` runs smaller sizes for a smoke test (a few minutes); its sizes cannot meet or miss the targets
stated for full sizes, so those verdicts read ``n/a``. ``--only listing,ledger`` runs some sections.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from bench import (
    engines,
    footprint,
    inventory,
    labelstudio,
    ledger,
    ledger_commit,
    listing,
    media,
    plan,
    registration,
    trace_sync,
    ui,
)
from tests.harness import REPO

RESULTS = REPO / "bench" / "results.json"
SECTIONS: dict[str, Callable[..., dict[str, Any]]] = {
    "listing": listing.run,
    "engines": engines.run,
    "plan": plan.run,
    "ledger": ledger.run,
    "ledger_commit": ledger_commit.run,
    "registration": registration.run,
    "footprint": footprint.run,
    "media": media.run,
    "inventory": inventory.run,
    "ui": ui.run,
    "trace": trace_sync.run,
    "labelstudio": labelstudio.run,
}


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def verdict(met: bool | dict[str, bool | None] | None) -> str:
    """One word for a figure: MISSED if any of its targets is missed, met if all are, n/a if none applies."""
    if isinstance(met, dict):
        values = [v for v in met.values() if v is not None]
        met = None if not values else all(values)
    return "n/a" if met is None else "met" if met else "MISSED"


def spread(times: dict[str, float]) -> str:
    """Median with min-max, as every timed figure is recorded."""
    return f"{times['median']:.2f} s ({times['min']:.2f}-{times['max']:.2f})"


def plan_row(result: dict[str, Any]) -> tuple[str, str, str]:
    """A plan case: the smaller size's median time is the figure; memory and scaling go in the details.

    Its target reads in full in results.json; the column only has room for the short form.
    """
    met = result["met"]
    figure = f"{result['seconds']['median']:.2f} s"
    details = (
        f"{result['objects']:,} objects, {result['batches']:,} batches: {spread(result['seconds'])}, "
        f"{result['objects_per_s']:,.0f} objects/s [{verdict(met['seconds'])}], peak {result['peak_rss_mb']:.0f} MB "
        f"[{verdict(met['peak_rss'])}], {result['scaled']['objects']:,}/{result['objects']:,} "
        f"{result['ratio']:.2f}x [{verdict(met['ratio'])}]"
    )
    return figure, "<10 s, <300 MB, <=2.2x", details


def overhead_row(result: dict[str, Any]) -> tuple[str, str, str]:
    details = (
        f"{result['objects']:,} objects under {result['prefix']} on {result.get('server', '?')}: "
        f"ours {spread(result['airflow_ingest_s'])}, {result.get('raw', 'raw paginator')} "
        f"{spread(result['raw_paginator_s'])}"
    )
    return f"{result['ratio']:.2f}x time", result["target"], details


def seeds_row(result: dict[str, Any]) -> tuple[str, str, str]:
    details = (
        f"{result['objects']:,} wanted of {result['objects_in_bucket']:,}: seeds' objects.all() "
        f"{spread(result['seed_scripts_s'])}, ours {spread(result['airflow_ingest_s'])}"
    )
    return f"{result['gain']:.0f}x faster", result["target"], details


def parallel_row(result: dict[str, Any]) -> tuple[str, str, str]:
    details = (
        f"{result['objects']:,} objects, {result['server']}: sequential {spread(result['sequential_s'])}, "
        f"16 threads {spread(result['parallel_16_s'])}"
    )
    return f"{result['gain']:.2f}x faster", result["target"], details


def ledger_row(result: dict[str, Any]) -> tuple[str, str, str]:
    met = result["met"]
    details = (
        f"{result['entries']:,} entries vs {result['listed']:,} listed ({result['counts']['new']:,} new): "
        f"{spread(result['seconds'])} [{verdict(met['seconds'])}], CPU {result['cpu_seconds']['median']:.2f} s, "
        f"peak {result['peak_rss_mb']:.0f} MB [{verdict(met['peak_rss'])}]; reading alone: listing "
        f"{result['read_listing_alone_s']:.2f} s, ledger {result['read_ledger_alone_s']:.2f} s"
    )
    return f"{result['seconds']['median']:.2f} s", "<5 s, <200 MB", details


def rate_row(result: dict[str, Any]) -> tuple[str, str, str]:
    windows = ", ".join(f"{share:.1%}" for share in result["window_share"])
    details = (
        f"{result['requests']} requests of 100 items, {result['wall_s']:.0f} s: {result['items_per_minute']:,.0f} "
        f"of {result['ceiling_items_per_minute']:,} items/min ({result['share_of']}); "
        f"windows {windows}; 429s {result['responses_429']} ({result['responses_429_after_first_burst']} once pacing)"
    )
    return f"{result['share']:.1%} ceiling", ">=90%, 0 429s", details


def batching_row(result: dict[str, Any]) -> tuple[str, str, str]:
    details = (
        f"{result['items']:,} items, {result['server']}: 100/request {spread(result['ours_100_per_request_s'])}, "
        f"10/request {spread(result['darwin_py_10_per_request_s'])}"
    )
    return f"{result['gain']:.1f}x faster", result["target"], details


def xcom_row(result: dict[str, Any]) -> tuple[str, str, str]:
    details = (
        f"{result['objects']:,} objects (asked {result['objects_asked']:,}; moto's limit), {result['batches']:,} "
        f"batches: largest is {result['largest_xcom']}; {result['xcom_values']} values"
    )
    return f"{result['largest_xcom_bytes']:,} B", result["target"], details


def imports_row(result: dict[str, Any]) -> tuple[str, str, str]:
    details = "; ".join(f"{name} {spread(times)}" for name, times in result["seconds_by_file"].items())
    return f"{result['seconds']['median']:.2f} s", result["target"], f"slowest {result['slowest']}: {details}"


def media_row(result: dict[str, Any]) -> tuple[str, str, str]:
    fetched = result["bytes_fetched_per_image"]
    rates = result["probes_per_s"]
    details = (
        f"{result['images']} JPEGs of {result['jpeg_bytes'] / 1e6:.1f} MB on {result['server']}: "
        f"{fetched['median']:,.0f} B ({fetched['min']:,.0f}-{fetched['max']:,.0f}) each; "
        f"{result['small_png_objects']} PNGs at {rates['median']:,.0f} probes/s "
        f"({rates['min']:,.0f}-{rates['max']:,.0f})"
    )
    return f"{fetched['median'] / 1024:.1f} KB/image", "<64 KB per 20 MB JPEG", details


def inventory_row(result: dict[str, Any]) -> tuple[str, str, str]:
    smaller = result["smaller"]
    details = (
        f"{result['rows']:,} rows ({result['report_bytes'] / 1e6:.0f} MB of files) to objects in key order: "
        f"{result['seconds']:.1f} s, {result['rows_per_s']:,.0f} rows/s, peak {result['peak_rss_mb']:.0f} MB; "
        f"{smaller['rows']:,} rows {smaller['seconds']:.1f} s, peak {smaller['peak_rss_mb']:.0f} MB; LIST at 30 ms "
        f"a page, sequential: ~{result['list_estimate_s']:,.0f} s"
    )
    return f"{result['seconds']:.1f} s", result["target"], details


def ui_row(result: dict[str, Any]) -> tuple[str, str, str]:
    details = (
        f"{result['items']:,} items ({result['problems']:,} problems, report {result['report_bytes'] / 1e6:.1f} MB): "
        f"first view {spread(result['first_view_s'])}, page 1 {result['page_1_s']['median'] * 1000:.1f} ms, last "
        f"page {result['last_page_s']['median'] * 1000:.1f} ms, search one "
        f"{result['search_one_s']['median'] * 1000:.1f} ms, search+filter "
        f"{result['search_quarter_s']['median'] * 1000:.1f} ms; a page is "
        f"{result['page_json_bytes']:,} B"
    )
    return f"{result['first_view_s']['median']:.2f} s", "<3 s, pages <0.2 s", details


ROWS: list[tuple[str, Callable[[dict[str, Any]], tuple[str, str, str]]]] = [
    ("plan_", plan_row),
    ("listing_overhead", overhead_row),
    ("listing_vs_seed_scripts", seeds_row),
    ("parallel_listing_", parallel_row),
    ("engines_", engines.row),
    ("ledger_selection", ledger_row),
    ("ledger_commit", ledger_commit.row),
    ("registration_rate_limited", rate_row),
    ("registration_batching", batching_row),
    ("xcom_footprint", xcom_row),
    ("dag_import_time", imports_row),
    ("media_probe", media_row),
    ("inventory_", inventory_row),
    ("ui_report_view", ui_row),
    ("sync_trace", trace_sync.row),
    ("labelstudio_registration", labelstudio.row),
]


def table(results: dict[str, Any]) -> str:
    lines = [f"{'benchmark':<28}{'figure':>14}  {'target':<24}{'verdict':<8}details"]
    for name, result in results.items():
        row = next(builder for prefix, builder in ROWS if name.startswith(prefix))
        figure, target, details = row(result)
        lines.append(f"{name:<28}{figure:>14}  {target:<24}{verdict(result.get('met')):<8}{details}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    only = argv[argv.index("--only") + 1].split(",") if "--only" in argv else list(SECTIONS)
    unknown = set(only) - set(SECTIONS)
    if unknown:
        print(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")
    started = time.monotonic()
    results: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    for section in only:
        began = time.monotonic()
        results.update(SECTIONS[section](quick=quick))
        seconds[section] = round(time.monotonic() - began, 1)
    document = {
        "machine": machine(),
        "quick": quick,
        "command": "make bench" + (" (python -m bench --quick)" if quick else ""),
        "sections": only,
        "seconds": round(time.monotonic() - started, 1),
        "section_seconds": seconds,
        **results,
    }
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    print(table(results))
    print(f"\nwritten to {RESULTS} in {document['seconds']} s ({', '.join(f'{k} {v} s' for k, v in seconds.items())})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
