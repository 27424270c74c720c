"""Listing benchmarks (issue 8, sections 1 and 2): this project's listing against each cloud's raw SDK listing on
the same server (boto3's paginator on moto, google-cloud-storage's ``list_blobs`` on gcp-storage-emulator,
azure's ``ContainerClient.list_blobs`` on Azurite), against the seeds' helper scripts (``objects.all()`` over
the whole bucket, filtered in Python), and the parallel listing against the sequential one behind a per-request
delay like real S3's.

Targets: overhead ratio <= 1.10 on each cloud; parallel gain >= 4x with 16 sub-prefixes and 30 ms per request.
The seeds' approach has no target: its speed-up is the reason to list a prefix rather than the bucket.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

from tests.harness import REPO, Azurite, Service, free_port, s3_client

BUCKET = "bench-bucket"
LOGS = REPO / "bench" / ".logs"
OVERHEAD_TARGET = 1.10


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


def seeds_approach(endpoint: str, directory: str) -> Callable[[], int]:
    """The seeds' helper scripts: every object of the bucket through ``boto3.resource``, filtered in Python.

    As in their ``generate_upload_spec``: keep the keys whose folder is exactly ``directory``, build an
    object URL for each.
    """
    import boto3

    resource = boto3.resource(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    bucket = resource.Bucket(BUCKET)

    def run() -> int:
        files = []
        for object_summary in bucket.objects.all():
            key_split = object_summary.key.split("/")
            if "/".join(key_split[:-1]) == directory:
                files.append({"objectUrl": f"https://{BUCKET}.s3.amazonaws.com/{object_summary.key}"})
        return len(files)

    return run


def raw_gcs(client: Any, prefix: str) -> int:
    """google-cloud-storage by hand: ``list_blobs`` over the prefix, one tuple per blob."""
    count = 0
    for blob in client.list_blobs(BUCKET, prefix=prefix):
        _ = (blob.name, blob.size, blob.md5_hash, blob.updated)
        count += 1
    return count


def raw_azure(container: Any, prefix: str) -> int:
    """azure-storage-blob by hand: ``ContainerClient.list_blobs`` over the prefix, one tuple per blob."""
    count = 0
    for blob in container.list_blobs(name_starts_with=prefix):
        _ = (blob.name, blob.size, blob.etag, blob.last_modified)
        count += 1
    return count


def ours(prefix: str, parallel: int = 1, url: str = f"s3://{BUCKET}/", conn_id: str = "bench_s3") -> Callable[[], int]:
    """This project's listing of ``prefix``, with the client made once up front as the raw side's is."""
    from airflow_ingest.core.filters import Filters
    from airflow_ingest.core.urls import parse_source
    from airflow_ingest.storage.base import storage_for
    from airflow_ingest.storage.parallel import parallel_walk

    source = parse_source(f"{url}{prefix}")
    storage = storage_for(source, conn_id, threads=parallel)
    wanted = Filters()

    def run() -> int:
        objects = parallel_walk(storage, source, prefix, parallel) if parallel > 1 else storage.walk(source, prefix)
        return sum(1 for obj in objects if wanted.accepts(obj))

    return run


def timed(label: str, run: Callable[[], int], repeats: int, expected: int) -> list[float]:
    """Wall time of ``run``, each time from a collected heap.

    Without the ``gc.collect()`` a full collection (~150 ms in this process, which holds Airflow's ~200,000
    objects) fell on whichever listing pushed the promotions of the previous one past the collector's
    threshold: with the two sides alternating, always the second, here ours, which then paid for the raw
    side's garbage too (GCS: one full collection in every one of ours, none in the raw side's).
    """
    seconds = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        count = run()
        seconds.append(time.perf_counter() - started)
        if count != expected:
            raise AssertionError(f"{label} listed {count} objects, expected {expected}")
    return seconds


def summary(seconds: list[float]) -> dict[str, float]:
    return {"min": min(seconds), "median": statistics.median(seconds), "max": max(seconds)}


def side_by_side(
    raw: Callable[[], int], mine: Callable[[], int], repeats: int, expected: int
) -> tuple[list[float], list[float]]:
    """Both listings warmed once, then timed alternately, so drift on a shared machine hits both alike."""
    raw(), mine()  # warm both paths: connection pools, lazy imports, the server's caches
    raws: list[float] = []
    mines: list[float] = []
    for _ in range(repeats):
        raws += timed("raw SDK listing", raw, 1, expected)
        mines += timed("airflow-ingest", mine, 1, expected)
    return raws, mines


def overhead(
    cloud: str, server: str, total: int, raw_name: str, raws: list[float], mines: list[float]
) -> dict[str, Any]:
    ratio = statistics.median(mines) / statistics.median(raws)
    return {
        "command": "make bench",
        "cloud": cloud,
        "objects": total,
        "prefix": "wide/",
        "server": server,
        "raw": raw_name,
        "raw_paginator_s": summary(raws),
        "airflow_ingest_s": summary(mines),
        "ratio": ratio,
        "target": f"<= {OVERHEAD_TARGET:.2f}",
        "met": ratio <= OVERHEAD_TARGET,
    }


@contextmanager
def seeded_gcs(prefixes: int, per_prefix: int) -> Iterator[Service]:
    """gcp-storage-emulator filled in-process (see bench/seeded_gcs.py), with the env its clients need."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.seeded_gcs", "--port", str(port), "--seed-bucket", BUCKET]
    argv += ["--seed-prefixes", str(prefixes), "--seed-per-prefix", str(per_prefix)]
    server = Service("seeded-gcs", argv, port, LOGS)
    os.environ["STORAGE_EMULATOR_HOST"] = server.url
    conn = {"conn_type": "google_cloud_platform", "extra": {"is_anonymous": True, "project": "test"}}
    os.environ["AIRFLOW_CONN_BENCH_GCS"] = json.dumps(conn)
    try:
        yield server
    finally:
        server.stop()
        os.environ.pop("STORAGE_EMULATOR_HOST", None)


@contextmanager
def seeded_azurite(prefixes: int, per_prefix: int) -> Iterator[Azurite]:
    """Azurite with ``wide/pNN/obj_NNNNNN.jpg`` blobs of 100 bytes, the tree bench/slow_s3.py seeds.

    Azurite keeps blobs in its own process and has no bulk load, so this PUTs them, but through a container
    SAS and plain ``requests`` sessions (no per-request signing by the SDK): about 230 blobs/s here, where
    ``upload_blob`` does 160.
    """
    import requests
    from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

    if not Azurite.BIN.exists():
        raise RuntimeError(f"Azurite is not installed at {Azurite.BIN}: run `make test` once (npm ci in tests/azurite)")
    server = Azurite(LOGS)
    try:
        BlobServiceClient.from_connection_string(server.connection_string).create_container(BUCKET)
        sas = generate_container_sas(
            Azurite.ACCOUNT,
            BUCKET,
            account_key=Azurite.KEY,
            permission=ContainerSasPermissions(write=True, create=True),
            expiry=datetime.now(timezone.utc) + timedelta(hours=2),
        )
        base = f"{server.url}/{Azurite.ACCOUNT}/{BUCKET}"
        headers = {"x-ms-blob-type": "BlockBlob", "x-ms-version": "2021-08-06", "Content-Type": "image/jpeg"}
        local = threading.local()

        def put(key: str) -> None:
            if not hasattr(local, "session"):
                local.session = requests.Session()
            local.session.put(f"{base}/{key}?{sas}", data=b"x" * 100, headers=headers, timeout=60).raise_for_status()

        keys = [f"wide/p{p:02d}/obj_{i:06d}.jpg" for p in range(prefixes) for i in range(per_prefix)]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(put, keys))
        os.environ["AIRFLOW_CONN_BENCH_WASB"] = server.conn()
        yield server
    finally:
        server.stop()


def run(quick: bool = False) -> dict[str, Any]:
    repeats = 3 if quick else 5
    results: dict[str, Any] = {}

    per_prefix = 500 if quick else 1000
    total = 16 * per_prefix
    with slow_s3(0, 16, per_prefix) as server:
        client = s3_client(server.url)
        raws, mines = side_by_side(lambda: raw_paginator(client, "wide/"), ours("wide/"), repeats, total)
        raw_name = "boto3 list_objects_v2 paginator"
        results["listing_overhead"] = overhead("s3", "moto (no added latency)", total, raw_name, raws, mines)

    with seeded_gcs(16, per_prefix):
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        gcs = storage.Client(project="test", credentials=AnonymousCredentials())
        mine = ours("wide/", url=f"gs://{BUCKET}/", conn_id="bench_gcs")
        raws, mines = side_by_side(lambda: raw_gcs(gcs, "wide/"), mine, repeats, total)
        server_name = "gcp-storage-emulator (in memory; answers a listing in one page)"
        raw_name = "google-cloud-storage Client.list_blobs"
        results["listing_overhead_gcs"] = overhead("gcs", server_name, total, raw_name, raws, mines)

    # Azurite is slow to fill and to list (about 0.4 ms of server time per blob), so its tree is smaller.
    az_per_prefix = 100 if quick else 500
    az_total = 16 * az_per_prefix
    with seeded_azurite(16, az_per_prefix) as azurite:
        import logging

        from azure.storage.blob import ContainerClient

        # azure-core logs every request and response at INFO; quiet, as a user's would be, on both sides alike
        logging.getLogger("azure").setLevel(logging.WARNING)

        container = ContainerClient.from_connection_string(azurite.connection_string, BUCKET)
        mine = ours("wide/", url=f"az://{BUCKET}/", conn_id="bench_wasb")
        raws, mines = side_by_side(lambda: raw_azure(container, "wide/"), mine, repeats, az_total)
        results["listing_overhead_azure"] = overhead(
            "azure", "Azurite (in memory)", az_total, "azure-storage-blob ContainerClient.list_blobs", raws, mines
        )

    # The seeds' helper scripts list the whole bucket and keep one folder; here that folder is 1% of the bucket.
    # 50,000 objects at most: moto's first listing of a bucket costs O(n^2) (see bench/footprint.py).
    wanted = 200 if quick else 500
    with slow_s3(0, 1, wanted, other=99 * wanted) as server:
        seeds, mine = seeds_approach(server.url, "wide/p00"), ours("wide/p00/")
        seeds_s, mines = side_by_side(seeds, mine, 3, wanted)
        results["listing_vs_seed_scripts"] = {
            "command": "make bench",
            "objects_in_bucket": 100 * wanted,
            "objects": wanted,
            "prefix": "wide/p00/ (1% of the bucket)",
            "server": "moto (no added latency; repeated listings replayed, see bench/slow_s3.py)",
            "seed_scripts_s": summary(seeds_s),
            "airflow_ingest_s": summary(mines),
            "gain": statistics.median(seeds_s) / statistics.median(mines),
            "target": "(context: no target)",
            "met": None,
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
            "met": statistics.median(sequential) / statistics.median(parallel) >= 4 if latency == 30 else None,
        }
    return results


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
