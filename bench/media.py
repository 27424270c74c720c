"""`make bench` media section: probing reads header bytes only, on moto server through S3Hook.

Figures: bytes fetched per image when probing a 20 MB camera-like JPEG (a 40 KB EXIF block before the frame
header; target under 64 KB), and probe throughput over small PNGs (4 threads, no cache), each over repeats as
min/median/max. Pure reads: nothing is written to the bucket.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from typing import Any

from tests.harness import REPO, MotoS3

LOGS = REPO / "bench" / ".logs"
TARGET_BYTES = 64 * 1024


def summary(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def run(quick: bool = False) -> dict[str, Any]:
    from tests.media_samples import big_jpeg, image_bytes

    big_count, small_count, repeats = (2, 100, 2) if quick else (3, 400, 3)
    server = MotoS3(LOGS)
    try:
        os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = server.conn()
        from airflow_ingest.core.objects import StoredObject
        from airflow_ingest.core.urls import Scheme
        from airflow_ingest.media.probing import probe_objects
        from airflow_ingest.storage.base import storage_for

        client = server.client()
        client.create_bucket(Bucket="media-bench")
        jpeg = big_jpeg()
        png = image_bytes("PNG", (640, 480))
        for n in range(big_count):
            client.put_object(Bucket="media-bench", Key=f"big/{n}.jpg", Body=jpeg)
        for n in range(small_count):
            client.put_object(Bucket="media-bench", Key=f"small/{n:04d}.png", Body=png)

        def objects(prefix: str, size: int) -> list[StoredObject]:
            listed = client.list_objects_v2(Bucket="media-bench", Prefix=prefix, MaxKeys=1000)["Contents"]
            return [
                StoredObject(
                    f"s3://media-bench/{o['Key']}",
                    "media-bench",
                    o["Key"],
                    size,
                    o["ETag"].strip('"'),
                    o["LastModified"],
                )
                for o in listed
            ]

        store = storage_for(Scheme.S3)
        fetched = [float(p.bytes_fetched) for p in probe_objects(objects("big/", len(jpeg)), store, workers=1)]
        assert all(p > 0 for p in fetched)
        small = objects("small/", len(png))
        rates = []
        for _ in range(repeats):
            began = time.perf_counter()
            done = list(probe_objects(small, store, workers=4))
            rates.append(len(done) / (time.perf_counter() - began))
            assert all(p.ok for p in done)
    finally:
        server.stop()
    bytes_per_image = summary(fetched)
    return {
        "media_probe": {
            "command": "make bench",
            "server": "moto server (S3), through S3Hook ranged GETs",
            "jpeg_bytes": len(jpeg),
            "images": big_count,
            "bytes_fetched_per_image": bytes_per_image,
            "small_png_objects": small_count,
            "probes_per_s": summary(rates),
            "target": "< 64 KB fetched per 20 MB JPEG",
            "met": {"bytes": None if quick else bytes_per_image["max"] < TARGET_BYTES},
        }
    }


if __name__ == "__main__":
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
