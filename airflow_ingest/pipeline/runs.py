"""A run folder's listing and plan, read in one place.

The listing task writes ``listing.json`` (the source, its connection, whether filters narrowed it) and
``objects.jsonl.gz``; the plan writes ``plan.json``. Every later step (the plan reads the listing; register,
report and commit read the plan; ``ledger repair --from-run`` reads old plans) goes through these readers, so
a change of either format has one place to go.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from airflow_ingest.core.errors import IngestError
from airflow_ingest.core.objects import StoredObject, read_objects
from airflow_ingest.core.plan import Plan
from airflow_ingest.core.urls import Source, parse_source

PLAN_FILE = "plan.json"
LISTING_FILE = "listing.json"
OBJECTS_FILE = "objects.jsonl.gz"


class MissingRunFile(IngestError):
    """A run folder lacks the file a step needs: the step before it did not finish (or the folder is wrong)."""

    def __init__(self, run: Any, name: str) -> None:
        self.run, self.name = run, name
        super().__init__(f"{run} holds no {name}")


@dataclass(frozen=True)
class Listing:
    """What ``listing.json`` records: the listed source, its connection, and whether filters narrowed it."""

    source: Source
    conn_id: str | None
    filtered: bool
    objects_path: Any

    @contextlib.contextmanager
    def objects(self) -> Iterator[Iterator[StoredObject]]:
        """The listed objects, streamed from ``objects.jsonl.gz`` while the block is open."""
        with self.objects_path.open("rb") as stream:
            yield read_objects(stream)


def read_plan(run: Any) -> Plan:
    """The run's ``plan.json``; :class:`MissingRunFile` when the plan was never written there."""
    path = run / PLAN_FILE
    if not path.exists():
        raise MissingRunFile(run, PLAN_FILE)
    with path.open("r", encoding="utf-8") as stream:
        return Plan.from_json(json.load(stream))


def read_plan_heading(run: Any) -> dict[str, Any]:
    """The plan's platform and target only, ``{}`` without a plan: for a page's heading, which must show even
    for a plan written by another version (whose batches this version might not read)."""
    path = run / PLAN_FILE
    if not path.exists():
        return {}
    with path.open("r", encoding="utf-8") as stream:
        data = json.load(stream)
    return {"platform": data.get("platform"), "target": data.get("target") or {}}


def read_listing(run: Any, objects_path: Any = None) -> Listing:
    """The run's ``listing.json`` (``objects_path`` defaults to the run's ``objects.jsonl.gz``)."""
    path = run / LISTING_FILE
    if not path.exists():
        raise MissingRunFile(run, LISTING_FILE)
    record = json.loads(path.read_text(encoding="utf-8"))
    return Listing(
        source=parse_source(record["source"]),
        conn_id=record.get("conn_id"),
        filtered=bool(record.get("filtered", False)),
        objects_path=objects_path if objects_path is not None else run / OBJECTS_FILE,
    )
