"""``plan_run``: the listing, less what the ledger holds, grouped and batched into manifests in one pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.ledger import Entry
from airflow_ingest.core.urls import parse_source
from airflow_ingest.pipeline.ledger_store import LedgerStore
from airflow_ingest.pipeline.planning import plan_run
from airflow_ingest.pipeline.runs import read_plan
from tests.unit.pipeline.runs import builder, objects

SOURCE = parse_source("s3://bkt/")


def test_a_plan_without_a_ledger_holds_every_object(tmp_path: Path) -> None:
    planned = plan_run(objects(25), builder(), Limits(max_entries=10), tmp_path, source=SOURCE)
    assert planned.selection is None and planned.stage is None
    assert planned.summary() == {"platform": "darwin", "objects": 25, "items": 25, "skipped": 0, "batches": 3}
    assert read_plan(tmp_path).to_json() == planned.plan.to_json()
    assert (tmp_path / "manifests" / "batch-00003.json").exists()


def test_with_a_ledger_only_what_it_lacks_is_planned(tmp_path: Path) -> None:
    store = LedgerStore(str(tmp_path / "state"), "sync")
    held = sorted(Entry(o.url, o.etag, o.key) for o in objects(10))
    store.commit("earlier", held)
    planned = plan_run(objects(25), builder(), Limits(max_entries=10), tmp_path / "run", source=SOURCE, store=store)
    assert planned.selection is not None and planned.selection.counts["new"] == 15
    assert planned.selection.counts["unchanged"] == 10 and planned.plan.items == 15


def test_a_bad_on_change_is_refused_naming_it(tmp_path: Path) -> None:
    store = LedgerStore(str(tmp_path / "state"), "sync")
    with pytest.raises(ConfigError, match=r"on_change='sometimes' is invalid: use report or resend"):
        plan_run(objects(1), builder(), Limits(10), tmp_path, source=SOURCE, store=store, on_change="sometimes")
