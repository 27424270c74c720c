"""A listed run folder for the pipeline's tests: objects, ``listing.json``, and a Darwin builder for them."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from airflow_ingest.core.objects import StoredObject, write_objects
from airflow_ingest.platforms.darwin.documents import DarwinManifests
from airflow_ingest.platforms.darwin.target import DarwinTarget

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)


def objects(count: int, etag: str = "e") -> list[StoredObject]:
    return [StoredObject(f"s3://bkt/k{n:04d}.png", "bkt", f"k{n:04d}.png", 10, etag, NOW) for n in range(count)]


def builder() -> DarwinManifests:
    return DarwinManifests(DarwinTarget(dataset_slug="d", storage_slug="s"))


def listed_run(run: Path, count: int, *, filtered: bool = False) -> list[StoredObject]:
    """Write ``objects.jsonl.gz`` and ``listing.json`` as the listing task does; return the objects."""
    listed = objects(count)
    run.mkdir(parents=True, exist_ok=True)
    with (run / "objects.jsonl.gz").open("wb") as stream:
        write_objects(listed, stream)
    record = {"source": "s3://bkt/", "conn_id": "aws_test", "filtered": filtered}
    (run / "listing.json").write_text(json.dumps(record), encoding="utf-8")
    return listed
