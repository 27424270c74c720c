"""``report_run`` and ``commit_run``: every planned item reported, only what got registered committed."""

from __future__ import annotations

import logging
from pathlib import Path

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.outcomes import Outcome, OutcomeKind
from airflow_ingest.core.plan import make_plan, path_opener
from airflow_ingest.pipeline.ledger_store import LedgerStore
from airflow_ingest.pipeline.registering import SendContext, register_range
from airflow_ingest.pipeline.reporting import commit_run, report_run, run_entries
from airflow_ingest.platforms import get_platform
from tests.unit.pipeline.runs import builder, objects


def registered(ctx: SendContext) -> list[Outcome]:
    return [Outcome(str(line["item"]), OutcomeKind.REGISTERED) for line in ctx.index()]


def test_a_batch_never_sent_is_reported_failed_and_left_out_of_the_ledger(tmp_path: Path) -> None:
    plan = make_plan(objects(30), builder(), Limits(max_entries=10), path_opener(tmp_path))
    register_range(tmp_path, plan, 1, 2, registered, logging.getLogger("tests.pipeline"))  # batch 3 never ran
    report = report_run(tmp_path, plan, retry=get_platform(plan.platform).retry_cut(tmp_path, plan), run_id="r1")
    assert report.totals["registered"] == 20 and report.totals["failed"] == 10 and report.has_problems
    assert report.csv.exists() and report.json.exists() and len(report.retry) == 1
    assert len(list(run_entries([tmp_path]))) == 20

    store = LedgerStore(str(tmp_path / "state"), "sync")
    head = commit_run(store, tmp_path, "r1")
    assert head["entries"] == 20 and len(list(store.entries())) == 20
