"""What every register operator does around its platform call: find its batch in the plan, record the outcomes."""

from __future__ import annotations

import json
from typing import Any

from airflow_ingest.core.outcomes import Outcome, count_outcomes
from airflow_ingest.core.plan import BatchInfo, Plan
from airflow_ingest.core.report import outcome_path, write_outcomes


def manifest_batch(manifest: Any) -> tuple[Any, Plan, BatchInfo] | None:
    """The run folder, plan and batch a manifest was planned in; None for a manifest outside a plan's run folder."""
    run = manifest.parent.parent if manifest.parent.name == "manifests" else manifest.parent
    plan_file = run / "plan.json"
    if not plan_file.exists():
        return None
    with plan_file.open("r", encoding="utf-8") as stream:
        plan = Plan.from_json(json.load(stream))
    batch = next((b for b in plan.batches if b.path.rpartition("/")[2] == manifest.name), None)
    return None if batch is None else (run, plan, batch)


def record_outcomes(manifest: Any, outcomes: list[Outcome], log: Any) -> dict[str, int]:
    """Write the batch's outcomes beside its manifest, log the counts and every problem; return the counts."""
    write_outcomes(outcome_path(manifest), outcomes)
    counts = count_outcomes(outcomes)
    log.info("Batch %s: %s", manifest.name, counts)
    for outcome in outcomes:
        if outcome.outcome.value in ("blocked", "failed"):
            log.warning("%s %s: %s", outcome.outcome.value, outcome.item, outcome.reason)
    return counts
