"""The DAGs on Airflow's distributed engine: Postgres, Redis, the CeleryExecutor and two workers sharing no disk.

One :class:`tests.celery_stack.CeleryStack` for the module (its start costs about a minute). The workspace and
the ledgers live on S3 (moto) as ``s3://aws_default@...`` URIs; the workers' Airflow homes and temporary folders
are their own. What is proven:

- ``ingest_manual`` and two nights of ``nightly_sync`` succeed with their tasks spread over both workers, every
  artifact under the S3 workspace and state, nothing in a worker's home but Airflow's config and task logs, and
  every item on the fake V7 once (the second night sends only what is new);
- a worker lost mid-register (SIGKILL to the worker and its task process) is recovered by the settings the README
  recommends: the scheduler marks the silent task failed after ``[scheduler] task_instance_heartbeat_timeout``,
  the register task's ``retry_delay`` later the other worker resumes at the first batch without an outcome file on
  S3, and every item is on V7 once. The recovery time is measured and written to ``recovery.json``.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_ingest.operators.workspace import safe_segment
from airflow_ingest.task_groups import REGISTER_RETRY_DELAY
from tests.celery_stack import HEARTBEAT_TIMEOUT, SHARED_BUCKET, CeleryStack, Worker
from tests.harness import REPO
from tests.stack import BUCKET, FORM_DAG, one_stack_at_a_time, stack_objects

pytestmark = pytest.mark.slow

OUT = REPO / ".test-output" / "celery"  # one module, so one xdist worker: no per-worker folder needed
NIGHTLY = "nightly_sync"
MANUAL_STATE = f"s3://aws_default@{SHARED_BUCKET}/manual-state"
NIGHTLY_SOURCE = f"s3://{BUCKET}/raw/berlin/2026-11-01/"
MANUAL_SOURCE = f"s3://{BUCKET}/raw/berlin/2026-11-02/"
NEW_NIGHT_TWO = [(f"raw/berlin/2026-11-01/cam0/frame_{i:04d}.jpg", 180_000 + i) for i in range(100, 106)]
RECOVERY_BOUND = 120.0
"""What the README promises for a lost worker, in seconds: heartbeat timeout + detection + retry delay + slack."""


@pytest.fixture(scope="module")
def stack() -> Iterator[CeleryStack]:
    env = {
        "AIRFLOW_INGEST_NIGHTLY_SCHEDULE": "0 0 31 12 *",  # no fire time since start_date: triggered runs only
        "AIRFLOW_INGEST_NIGHTLY_SOURCE": NIGHTLY_SOURCE,
    }
    with one_stack_at_a_time():
        running = CeleryStack.start(OUT / "stack", objects=stack_objects(), env=env, timeout=300)
        yield running
        running.stop()


@pytest.fixture
def both_workers(stack: CeleryStack) -> CeleryStack:
    """The stack with both workers up (the kill test may have run first and left one down)."""
    for worker in stack.workers:
        if worker.component is None:
            stack.start_worker(worker)
    return stack


def s3_keys(stack: CeleryStack, prefix: str) -> list[str]:
    assert stack.s3 is not None
    pages = stack.s3.client().get_paginator("list_objects_v2").paginate(Bucket=SHARED_BUCKET, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def run_prefix(dag_id: str, run_id: str, group: str) -> str:
    return f"workspace/{safe_segment(dag_id)}/{safe_segment(run_id)}/{group}/"


def report_totals(stack: CeleryStack, dag_id: str, run_id: str, group: str) -> dict[str, int]:
    assert stack.s3 is not None
    key = run_prefix(dag_id, run_id, group) + "report.json"
    body = stack.s3.client().get_object(Bucket=SHARED_BUCKET, Key=key)["Body"].read()
    return dict(json.loads(body)["totals"])


def run_ok(stack: CeleryStack, dag_id: str, conf: dict[str, Any], timeout: float = 300) -> str:
    run_id = stack.trigger(dag_id, conf)
    run = stack.wait_run(dag_id, run_id, timeout=timeout)
    assert run["state"] == "success", stack.unfinished_tasks(dag_id, run_id)
    return run_id


def local_files(worker: Worker) -> list[str]:
    """Every file in the worker's home and temporary folder, relative to its folder."""
    return sorted(
        str(path.relative_to(worker.root))
        for path in worker.root.rglob("*")
        if path.is_file() and path.name != "worker.pid"
    )


def manual_conf(**more: Any) -> dict[str, Any]:
    return {
        "source": f"s3://{BUCKET}/raw/",
        "platform": "darwin",
        "dataset_slug": "demo-dataset",
        "storage_slug": "demo-storage",
        "max_entries": 8,
        **more,
    }


def test_ingest_manual_and_two_nights_run_across_both_workers_with_every_artifact_on_s3(
    both_workers: CeleryStack,
) -> None:
    stack = both_workers
    assert stack.darwin is not None and stack.s3 is not None
    stack.darwin.reset()
    session = stack.session()
    session.patch(f"{stack.url}/api/v2/dags/{NIGHTLY}", json={"is_paused": False}, timeout=30).raise_for_status()
    # A manual ingest of one day and the first night of another run side by side, as they would in production.
    manual_id = stack.trigger(FORM_DAG, manual_conf(source=MANUAL_SOURCE, register_tasks=2, state=MANUAL_STATE))
    first = run_ok(stack, NIGHTLY, {})
    assert stack.wait_run(FORM_DAG, manual_id, timeout=300)["state"] == "success", stack.unfinished_tasks(
        FORM_DAG, manual_id
    )
    by_day = Counter(r["storage_key"].split("/")[2] for r in stack.darwin.state()["registered"])
    stack.s3.seed(BUCKET, NEW_NIGHT_TWO)
    second = run_ok(stack, NIGHTLY, {})
    session.patch(f"{stack.url}/api/v2/dags/{NIGHTLY}", json={"is_paused": True}, timeout=30).raise_for_status()

    # Every item once: the manual run its day, the first night the other day, the second night only the new frames
    # (the ledger on S3 says what is new).
    manual = report_totals(stack, FORM_DAG, manual_id, "darwin")
    assert manual["registered"] == manual["items"] == by_day["2026-11-02"] > 20 and manual["failed"] == 0
    night_one = report_totals(stack, NIGHTLY, first, "sync")["registered"]
    assert night_one == by_day["2026-11-01"] > 20
    later = report_totals(stack, NIGHTLY, second, "sync")
    assert later["registered"] == len(NEW_NIGHT_TWO) and later["duplicate"] == 0 and later["failed"] == 0
    names = [(r["path"], r["name"]) for r in stack.darwin.state()["registered"]]
    assert len(names) == len(set(names)) == manual["items"] + night_one + len(NEW_NIGHT_TWO)
    sent = sum(r["items"] for r in stack.darwin.state()["requests"] if r["status"] == 200)
    assert sent == len(names)  # nothing was sent twice

    # Every artifact on S3: the runs' files under the workspace, both ledgers under their state prefixes.
    for dag_id, run_id, group in ((FORM_DAG, manual_id, "darwin"), (NIGHTLY, first, "sync"), (NIGHTLY, second, "sync")):
        prefix = run_prefix(dag_id, run_id, group)
        on_s3 = {key[len(prefix) :] for key in s3_keys(stack, prefix)}
        expected = {"objects.jsonl.gz", "plan.json", "manifests/batch-00001.json", "outcomes/batch-00001.json"}
        assert expected | {"items.jsonl", "report.json", "report.csv"} <= on_s3, on_s3
    assert s3_keys(stack, "manual-state/") and s3_keys(stack, "state/")

    # Tasks ran on both workers, and neither kept anything locally but Airflow's config and the task logs.
    hosts = {
        ti["hostname"]
        for dag_id, run_id in ((FORM_DAG, manual_id), (NIGHTLY, first), (NIGHTLY, second))
        for ti in stack.task_instances(dag_id, run_id)
        if ti["state"] == "success" and ti["operator"] != "EmptyOperator"  # the scheduler skips running those
    }
    assert hosts == {worker.name for worker in stack.workers}
    for worker in stack.workers:
        files = local_files(worker)
        assert any(f.startswith("airflow-home/logs/") for f in files), f"{worker.name} ran nothing"
        assert all(f.startswith("airflow-home/logs/") or f == "airflow-home/airflow.cfg" for f in files), files


def register_task(stack: CeleryStack, run_id: str) -> dict[str, Any] | None:
    found = [t for t in stack.task_instances(FORM_DAG, run_id) if t["task_id"] == "darwin.register"]
    return found[0] if found else None


def test_a_worker_lost_mid_register_is_recovered_on_the_other_within_two_minutes_and_nothing_is_sent_twice(
    stack: CeleryStack,
) -> None:
    assert stack.darwin is not None
    stack.darwin.reset()
    stack.darwin.configure(latency_ms=700)  # each batch ~0.7 s: the kill lands part-way through the range
    conf = manual_conf(max_entries=4, register_tasks=1)  # one task walks every batch
    run_id = stack.trigger(FORM_DAG, conf)
    outcomes = run_prefix(FORM_DAG, run_id, "darwin") + "outcomes/"

    deadline = time.monotonic() + 240
    while True:
        assert time.monotonic() < deadline, f"no register task to kill: {stack.unfinished_tasks(FORM_DAG, run_id)}"
        task = register_task(stack, run_id)
        if task and task["state"] == "running" and task["hostname"] and len(s3_keys(stack, outcomes)) >= 3:
            break
        time.sleep(0.3)
    victim = next(w for w in stack.workers if w.name == task["hostname"])
    stack.kill_worker(victim)  # the worker and its task process: a lost machine
    killed_at = time.monotonic()
    stack.darwin.configure(latency_ms=0)

    retried_at = None
    while retried_at is None:
        assert time.monotonic() < killed_at + 300, f"never retried: {register_task(stack, run_id)}"
        task = register_task(stack, run_id)
        if task and task["try_number"] >= 2 and task["state"] in ("running", "success"):
            retried_at = time.monotonic()
        time.sleep(0.5)
    run = stack.wait_run(FORM_DAG, run_id, timeout=240)
    finished_at = time.monotonic()
    assert run["state"] == "success", stack.unfinished_tasks(FORM_DAG, run_id)
    task = register_task(stack, run_id)
    assert task is not None and task["try_number"] == 2 and task["hostname"] != victim.name

    totals = report_totals(stack, FORM_DAG, run_id, "darwin")
    names = [(r["path"], r["name"]) for r in stack.darwin.state()["registered"]]
    assert len(names) == len(set(names)) == totals["items"] > 40  # every planned item on V7, once
    assert totals["registered"] + totals["duplicate"] == totals["items"] and totals["failed"] == 0
    assert totals["duplicate"] <= conf["max_entries"]  # at most the one batch in flight was sent twice

    recovery = {
        "heartbeat_timeout_s": HEARTBEAT_TIMEOUT,
        "retry_delay_s": REGISTER_RETRY_DELAY.total_seconds(),
        "kill_to_retry_running_s": round(retried_at - killed_at, 1),
        "kill_to_run_success_s": round(finished_at - killed_at, 1),
        "resent_as_duplicates": totals["duplicate"],
    }
    Path(OUT / "recovery.json").write_text(json.dumps(recovery, indent=2))
    print(f"\nrecovery of a lost worker: {recovery}")
    assert retried_at - killed_at < RECOVERY_BOUND, recovery
