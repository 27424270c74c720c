"""Process faults under Airflow's own scheduler: a register task SIGKILLed mid-batch, overlapping nightly runs.

``airflow dags test`` runs tasks in its own process, so neither fault can happen there. This module starts the
``make up`` stack (:mod:`tests.stack`: scheduler, dag-processor, triggerer and api-server with the
LocalExecutor, on SQLite) and drives it through the REST API, as a deployment would be driven.

- A worker lost mid-run (OOM killer, drained node) looks to Airflow like a task process that died: the
  scheduler retries the task (``register_retries``), and the retry resumes at the first batch without an outcome
  file. The batch that was in flight when the process died may have been committed by V7 already; sent again, V7
  answers that its items exist, and they are reported as duplicates, not registered twice.
- The nightly DAG has ``max_active_runs=1``: a run triggered while another runs waits, then finds the ledger
  already holding what the first registered, and sends nothing.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_ingest.operators.workspace import safe_segment
from tests.harness import REPO
from tests.stack import BUCKET, FORM_DAG, Stack, one_stack_at_a_time, stack_objects

pytestmark = pytest.mark.slow

OUT = REPO / ".test-output" / "scheduler"  # one module, so one worker: no per-worker folder needed
NIGHTLY = "nightly_sync"
PREFIX = "raw/"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    env = {
        "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "2",  # not Airflow's 300 s: the retry itself is what is tested
        "AIRFLOW_INGEST_NIGHTLY_SCHEDULE": "0 0 31 12 *",  # no fire time since start_date: only the triggered runs
    }
    with one_stack_at_a_time():
        running = Stack.start(OUT / "stack", objects=stack_objects(), env=env)
        yield running
        running.stop()


def task_process(ti_id: str) -> int | None:
    """The pid of the task process Airflow runs ``ti_id`` in (its title is ``airflow worker -- <ti id>``)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if f"airflow worker -- {ti_id}" in command:
            return int(entry.name)
    return None


def register_task(stack: Stack, dag_id: str, run_id: str, group: str) -> dict[str, Any] | None:
    found = [t for t in stack.task_instances(dag_id, run_id) if t["task_id"] == f"{group}.register"]
    return found[0] if found else None


def report_totals(stack: Stack, dag_id: str, run_id: str, group: str) -> dict[str, int]:
    """The totals of the run's report (``report.json`` in the group's run folder)."""
    path = stack.home.path / "ingest-workspace" / dag_id / safe_segment(run_id) / group / "report.json"
    return dict(json.loads(path.read_text())["totals"])


def test_a_register_task_killed_mid_batch_is_retried_by_the_scheduler_and_nothing_is_registered_twice(
    stack: Stack,
) -> None:
    assert stack.darwin is not None
    stack.darwin.reset()
    stack.darwin.configure(latency_ms=700)  # each batch ~0.7 s: the kill lands part-way through the range
    conf = {
        "source": f"s3://{BUCKET}/{PREFIX}",
        "platform": "darwin",
        "dataset_slug": "demo-dataset",
        "storage_slug": "demo-storage",
        "max_entries": 4,
        "register_tasks": 1,  # one task walks every batch, so its retry has some to skip and some to send
    }
    run_id = stack.trigger(FORM_DAG, conf)
    outcomes = stack.home.path / "ingest-workspace" / FORM_DAG / safe_segment(run_id) / "darwin" / "outcomes"

    deadline = time.monotonic() + 180
    killed: int | None = None
    while killed is None:
        assert time.monotonic() < deadline, f"no register task to kill: {stack.unfinished_tasks(FORM_DAG, run_id)}"
        task = register_task(stack, FORM_DAG, run_id, "darwin")
        written = list(outcomes.glob("*.json")) if outcomes.exists() else []
        if task is not None and task["state"] == "running" and len(written) >= 3:
            killed = task_process(task["id"])
        time.sleep(0.2)
    os.kill(killed, signal.SIGKILL)  # mid-batch: its request is in V7's hands, its outcome file not written
    stack.darwin.configure(latency_ms=0)

    run = stack.wait_run(FORM_DAG, run_id, timeout=240)
    assert run["state"] == "success", stack.unfinished_tasks(FORM_DAG, run_id)
    task = register_task(stack, FORM_DAG, run_id, "darwin")
    assert task is not None and task["try_number"] == 2  # the scheduler retried it once

    totals = report_totals(stack, FORM_DAG, run_id, "darwin")
    names = [(r["path"], r["name"]) for r in stack.darwin.state()["registered"]]
    assert len(names) == len(set(names)) == totals["items"] > 40  # every planned item on V7, once
    assert totals["registered"] + totals["duplicate"] == totals["items"] and totals["failed"] == 0
    assert totals["duplicate"] <= conf["max_entries"]  # at most the one batch that was in flight was sent twice


def test_overlapping_nightly_runs_take_turns_and_the_second_sends_nothing(stack: Stack) -> None:
    assert stack.darwin is not None
    stack.darwin.reset()
    session = stack.session()
    first = stack.trigger(NIGHTLY, {})
    second = stack.trigger(NIGHTLY, {})  # while the first is queued or running: a second click, a backfill
    answer = session.patch(f"{stack.url}/api/v2/dags/{NIGHTLY}", json={"is_paused": False}, timeout=30)
    answer.raise_for_status()

    most_running, deadline = 0, time.monotonic() + 300
    while True:
        runs = session.get(f"{stack.url}/api/v2/dags/{NIGHTLY}/dagRuns", timeout=30).json()["dag_runs"]
        states = [r["state"] for r in runs]
        most_running = max(most_running, states.count("running"))
        if all(state in ("success", "failed") for state in states) and len(runs) >= 2:
            break
        assert time.monotonic() < deadline, f"nightly runs did not finish: {states}"
        time.sleep(0.5)
    session.patch(f"{stack.url}/api/v2/dags/{NIGHTLY}", json={"is_paused": True}, timeout=30)

    assert most_running == 1  # never two at once
    assert {r["dag_run_id"]: r["state"] for r in runs if r["dag_run_id"] in (first, second)} == {
        first: "success",
        second: "success",
    }
    registered = stack.darwin.state()["registered"]
    names = [(r["path"], r["name"]) for r in registered]
    assert names and len(names) == len(set(names))  # the bucket's items, each once
    finished = sorted(runs, key=lambda r: r["end_date"])
    later = [report_totals(stack, NIGHTLY, r["dag_run_id"], "sync") for r in finished[1:]]
    assert all(t["registered"] == 0 and t["duplicate"] == 0 for t in later), later
