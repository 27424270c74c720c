"""Registration benchmark (issue 8, section 5): DarwinHook against the fake V7 Darwin over HTTP, 50 ms per request.

1. **Under the rate limit.** The fake allows 100 requests in any 60 s (V7's documented limit) and answers 429
   with Retry-After beyond it; the hook paces itself with its client-side limiter at the same 100 a minute.
   Batches of 100 items are sent one after another through :func:`register_batch`, as the register task does.
   The limit's ceiling is 100 items x 100 requests = 10,000 items a minute. The hook's limiter is a sliding
   window, so it sends 100 requests at once and then waits for the window to slide: throughput is only
   meaningful over whole windows. Window *j* runs from the server's arrival of successful request
   (j-1)x100+1 to that of request jx100+1 and holds 100 x 100 items, so its share of the ceiling is
   60 s / its length. The first window starts from nothing (a burst); the second, once the limiter is
   pacing, is the steady state the target (>= 90%) is for. Every 429 the fake answered is counted from its
   request log; the target is none once the limiter paces, after the first burst of 100 (the hook absorbs
   them with retries, each costing a Retry-After wait and a slot of the window).
2. **Without a rate limit.** This project's batching (100 items per request) against darwin-py's way (one
   ``register_existing`` per 10 items, sent one at a time), the same items through the same hook, so the
   figure is the batching alone: the speed-up of ours.

``--quick`` scales the limit down to 20 a minute on both sides and sends one window plus one request (about
60 s): the window transition is exercised but there is no steady-state window, so no verdict.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from itertools import count, pairwise
from typing import Any

from tests.harness import REPO, FakeDarwin

LOGS = REPO / "bench" / ".logs"
LATENCY_MS = 50
ITEMS_PER_REQUEST = 100
DARWIN_PY_ITEMS = 10
TARGET_SHARE = 0.90
_batches = count(1)


def body(items: int, dataset: str = "demo-dataset") -> str:
    """One ``register_existing`` payload of ``items`` new images, each with a name never used before."""
    batch = next(_batches)
    entries = [
        {"path": f"/bench/b{batch:06d}", "type": "image", "storage_key": f"bench/b{batch:06d}/{i:03d}.jpg",
         "name": f"{i:03d}.jpg"}
        for i in range(items)
    ]  # fmt: skip
    return json.dumps({"items": entries, "dataset_slug": dataset, "storage_slug": "demo-storage"})


def send(hook: Any, items: int, per_request: int) -> None:
    """Register ``items`` items, ``per_request`` a request, one request after another; all must land."""
    from airflow_ingest.core.outcomes import OutcomeKind
    from airflow_ingest.platforms.darwin.register import register_batch

    left = items
    while left:
        size = min(per_request, left)
        outcomes = register_batch(hook, body(size))
        landed = sum(1 for o in outcomes if o.outcome is OutcomeKind.REGISTERED)
        if landed != size:
            raise AssertionError(f"{landed} of {size} items registered: {outcomes[:3]}")
        left -= size


def rate_limited(darwin: FakeDarwin, per_minute: int, windows: int) -> dict[str, Any]:
    """``windows`` x ``per_minute`` + 1 batches of 100 under a ``per_minute`` limit on both sides."""
    from airflow_ingest.platforms.darwin.hook import DarwinHook

    darwin.reset()
    darwin.configure(rpm=per_minute, latency_ms=LATENCY_MS)
    os.environ["AIRFLOW_CONN_BENCH_DARWIN_LIMITED"] = darwin.conn(requests_per_minute=per_minute)
    hook = DarwinHook("bench_darwin_limited")
    requests_sent = windows * per_minute + 1
    started = time.monotonic()
    send(hook, requests_sent * ITEMS_PER_REQUEST, ITEMS_PER_REQUEST)
    wall = time.monotonic() - started
    log = darwin.state()["requests"]
    ok = [r["at"] for r in log if r["status"] == 200]
    refused = [r["at"] for r in log if r["status"] == 429]
    if len(ok) != requests_sent or len(log) != requests_sent + len(refused):
        raise AssertionError(f"the fake saw {len(ok)} successful requests of {requests_sent}: {log[-3:]}")
    edges = [ok[j * per_minute] for j in range(windows + 1)]
    spans = [b - a for a, b in pairwise(edges)]
    shares = [60.0 / span for span in spans]
    steady = shares[1:]
    return {
        "requests": requests_sent,
        "items": requests_sent * ITEMS_PER_REQUEST,
        "wall_s": wall,
        "window_s": spans,
        "window_share": shares,
        "window_items_per_minute": [per_minute * ITEMS_PER_REQUEST * share for share in shares],
        "steady_share": statistics.median(steady) if steady else None,
        "responses_429": len(refused),
        "responses_429_after_first_burst": sum(1 for at in refused if at > ok[per_minute - 1]),
    }


def batching(darwin: FakeDarwin, items: int, repeats: int) -> dict[str, Any]:
    """Ours (100 a request) against darwin-py's (10 a request), no rate limit, timed alternately."""
    from airflow_ingest.platforms.darwin.hook import DarwinHook

    darwin.reset()
    darwin.configure(latency_ms=LATENCY_MS)
    os.environ["AIRFLOW_CONN_BENCH_DARWIN_FREE"] = darwin.conn(requests_per_minute=0)
    hook = DarwinHook("bench_darwin_free")
    send(hook, ITEMS_PER_REQUEST, ITEMS_PER_REQUEST)  # warm: the session's connection, the hook's settings
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(repeats):
        for per_request, into in ((ITEMS_PER_REQUEST, ours), (DARWIN_PY_ITEMS, theirs)):
            started = time.perf_counter()
            send(hook, items, per_request)
            into.append(time.perf_counter() - started)
    refused = sum(1 for r in darwin.state()["requests"] if r["status"] != 200)
    if refused:
        raise AssertionError(f"{refused} requests failed without a rate limit")
    return {"ours": ours, "darwin_py": theirs}


def summary(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def run(quick: bool = False) -> dict[str, Any]:
    per_minute, windows = (20, 1) if quick else (100, 2)
    items, repeats = (500, 2) if quick else (2000, 3)
    darwin = FakeDarwin(LOGS)
    try:
        limited = rate_limited(darwin, per_minute, windows)
        free = batching(darwin, items, repeats)
    finally:
        darwin.stop()
    # --quick has no steady-state window: its figure is the first window's, with no verdict
    share = limited["steady_share"] if limited["steady_share"] is not None else limited["window_share"][0]
    ceiling = per_minute * ITEMS_PER_REQUEST
    gain = statistics.median(free["darwin_py"]) / statistics.median(free["ours"])
    return {
        "registration_rate_limited": {
            "command": "make bench",
            "server": f"fake V7 Darwin, {LATENCY_MS} ms per request, {per_minute} requests/minute (sliding window)",
            "client": f"DarwinHook, client-side limit {per_minute} requests/minute, batches of {ITEMS_PER_REQUEST}",
            "ceiling_items_per_minute": ceiling,
            **limited,
            "share": share,
            "share_of": "the first window (no steady state at --quick size)" if quick else "the steady-state window",
            "items_per_minute": share * ceiling,
            "target": ">= 90% of the ceiling in steady state; 0 429s once pacing",
            "met": {
                "share": None if quick else share >= TARGET_SHARE,
                # one window transition at --quick: the count is recorded, the verdict is left to the full run
                "no_429": None if quick else limited["responses_429_after_first_burst"] == 0,
            },
        },
        "registration_batching": {
            "command": "make bench",
            "server": f"fake V7 Darwin, {LATENCY_MS} ms per request, no rate limit",
            "items": items,
            "runs": repeats,
            "ours_100_per_request_s": summary(free["ours"]),
            "darwin_py_10_per_request_s": summary(free["darwin_py"]),
            "gain": gain,
            "target": "(context: no target)",
            "met": None,
        },
    }


if __name__ == "__main__":
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
