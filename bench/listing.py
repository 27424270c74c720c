"""Listing benchmarks (issue 3): this project's listing against the raw boto3 paginator on the same server,
and the parallel listing against the sequential one behind a per-request delay like real S3's.

Targets: overhead ratio <= 1.10; parallel gain >= 4x with 16 sub-prefixes and 30 ms per request.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tests.harness import REPO, Service, free_port, s3_client

BUCKET = "bench-bucket"
LOGS = REPO / "bench" / ".logs"


@contextmanager
def slow_s3(latency_ms: float, prefixes: int, per_prefix: int, other: int = 0) -> Iterator[Service]:
    port = free_port()
    argv = [sys.executable, "-m", "bench.slow_s3", "--port", str(port), "--latency-ms", str(latency_ms)]
    argv += ["--seed-bucket", BUCKET, "--seed-prefixes", str(prefixes), "--seed-per-prefix", str(per_prefix)]
    argv += ["--seed-other", str(other)]
    server = Service(f"slow-s3-{latency_ms:g}ms", argv, port, LOGS)
    os.environ["AIRFLOW_CONN_BENCH_S3"] = json.dumps(
        {
            "conn_type": "aws",
            "login": "bench",
            "password": "bench",
            "extra": {"endpoint_url": server.url, "region_name": "us-east-1"},
        }
    )
    try:
        yield server
    finally:
        server.stop()


def raw_paginator(client: Any, prefix: str) -> int:
    """What a user writes by hand: list_objects_v2 pages, one tuple per object."""
    count = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for meta in page.get("Contents", []):
            _ = (meta["Key"], meta["Size"], meta["ETag"], meta["LastModified"])
            count += 1
    return count


def ours(prefix: str, parallel: int = 1) -> Callable[[], int]:
    """This project's listing of ``prefix``, with the S3 client made once up front as the raw side's is."""
    from airflow_ingest.core.filters import Filters
    from airflow_ingest.core.urls import parse_source
    from airflow_ingest.hooks import storage

    source = parse_source(f"s3://{BUCKET}/{prefix}")
    lister = storage.lister_for(source, "bench_s3", threads=parallel)
    wanted = Filters()

    def run() -> int:
        objects = storage._parallel(lister, prefix, parallel) if parallel > 1 else lister.walk(prefix)
        return sum(1 for obj in objects if wanted.accepts(obj))

    return run


def timed(label: str, run: Callable[[], int], repeats: int, expected: int) -> list[float]:
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        count = run()
        seconds.append(time.perf_counter() - started)
        if count != expected:
            raise AssertionError(f"{label} listed {count} objects, expected {expected}")
    return seconds


def summary(seconds: list[float]) -> dict[str, float]:
    return {"min": min(seconds), "median": statistics.median(seconds), "max": max(seconds)}


def run(quick: bool = False) -> dict[str, Any]:
    repeats = 3 if quick else 5
    results: dict[str, Any] = {}

    per_prefix = 500 if quick else 1000
    total = 16 * per_prefix
    with slow_s3(0, 16, per_prefix) as server:
        client = s3_client(server.url)
        listing = ours("wide/")
        raw_paginator(client, "wide/")  # warm both paths: connection pools, moto's lazy imports
        listing()
        raw: list[float] = []
        mine: list[float] = []
        for _ in range(repeats):  # interleaved, so drift on a shared machine hits both alike
            raw += timed("raw paginator", lambda: raw_paginator(client, "wide/"), 1, total)
            mine += timed("airflow-ingest", listing, 1, total)
        results["listing_overhead"] = {
            "command": "make bench",
            "objects": total,
            "server": "moto (no added latency)",
            "raw_paginator_s": summary(raw),
            "airflow_ingest_s": summary(mine),
            "ratio": statistics.median(mine) / statistics.median(raw),
            "target": "<= 1.10",
        }

    per_prefix = 1000 if quick else 2000
    total = 16 * per_prefix
    for latency in (30, 100):
        with slow_s3(latency, 16, per_prefix) as server:
            one, sixteen = ours("wide/"), ours("wide/", parallel=16)
            one(), sixteen()  # warm: the server replays a listing it has answered once (see bench/slow_s3.py)
            sequential: list[float] = []
            parallel: list[float] = []
            for _ in range(repeats):
                sequential += timed("sequential", one, 1, total)
                parallel += timed("parallel", sixteen, 1, total)
        results[f"parallel_listing_{latency}ms"] = {
            "command": "make bench",
            "objects": total,
            "sub_prefixes": 16,
            "threads": 16,
            "server": f"moto behind {latency} ms per request",
            "sequential_s": summary(sequential),
            "parallel_16_s": summary(parallel),
            "gain": statistics.median(sequential) / statistics.median(parallel),
            "target": ">= 4x at 30 ms" if latency == 30 else "(context: no target)",
        }
    return results


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
