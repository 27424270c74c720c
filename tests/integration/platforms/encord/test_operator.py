"""EncordRegisterOperator in real DAG runs (``dag.test()``, which runs triggers in-process) against the fake Encord."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.outcomes import OutcomeKind
from airflow_ingest.core.plan import Plan, make_plan, path_opener
from airflow_ingest.core.report import outcome_path, read_outcomes
from airflow_ingest.platforms.encord.documents import EncordManifests
from airflow_ingest.platforms.encord.target import EncordTarget
from airflow_ingest.platforms.encord.trigger import EncordJobTrigger
from tests.fakes.encord import FOLDER, INTEGRATION, FakeEncord
from tests.harness import REPO, AirflowHome

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)

DAG_FILE = """
import json, os
from datetime import datetime, timezone
from pathlib import Path
from airflow.sdk import DAG
from airflow_ingest.operators.encord import EncordRegisterOperator

run, deferrable = Path(os.environ["ENCORD_TEST_RUN"]), os.environ["ENCORD_TEST_DEFERRABLE"] == "1"
start = datetime(2025, 1, 1, tzinfo=timezone.utc)
with DAG(dag_id=os.environ["ENCORD_TEST_DAG"], schedule=None, start_date=start) as dag:
    for n, batches in enumerate(json.loads(os.environ["ENCORD_TEST_RANGES"]), start=1):
        EncordRegisterOperator(
            task_id=f"register_{n}", run_dir=str(run), batches=batches, folder_uuid=os.environ["ENCORD_TEST_FOLDER"],
            integration_id=os.environ["ENCORD_TEST_INTEGRATION"], target={"region": "eu-west-2"},
            deferrable=deferrable, poll_interval=1,
        )

if __name__ == "__main__":
    print("DAG-RUN-STATE", dag.test().state)
"""


@pytest.fixture(scope="module")
def home(encord_server: FakeEncord, tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    """A migrated SQLite Airflow home whose ``encord_default`` connection points at the fake with its key."""
    airflow = AirflowHome(
        Path(tmp_path_factory.mktemp("airflow-home-encord")), {"encord_default": encord_server.conn()}
    )
    airflow.migrate()
    return airflow


def plan_run(run: Path, count: int) -> Plan:
    keys = [f"op/{n:04d}.png" if n % 10 else f"op/bad-{n:04d}.png" for n in range(count)]
    objects = [StoredObject(f"s3://bkt/{k}", "bkt", k, 100, "etag", NOW) for k in keys]
    builder = EncordManifests(EncordTarget(region="eu-west-2"))
    return make_plan(objects, builder, Limits(max_entries=20), path_opener(run))


def dag_test(home: AirflowHome, run: Path, plan: Plan, deferrable: bool) -> tuple[str, dict[str, str], str]:
    """``dag.test()`` of a DAG registering every batch, from a DAGs folder of its own (3.x syncs it from there)."""
    dag_id = "encord_register_" + ("deferred" if deferrable else "inline")
    dags = run.parent / "dags"
    dags.mkdir(exist_ok=True)
    (dags / f"{dag_id}.py").write_text(DAG_FILE)
    env = home.env(
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",  # the deferral is checked in the log lines
        ENCORD_TEST_RUN=str(run),
        ENCORD_TEST_DEFERRABLE="1" if deferrable else "0",
        ENCORD_TEST_DAG=dag_id,
        ENCORD_TEST_RANGES=json.dumps([[1, len(plan.batches) - 1], str(len(plan.batches))]),  # one task defers twice
        ENCORD_TEST_FOLDER=FOLDER,
        ENCORD_TEST_INTEGRATION=INTEGRATION,
    )
    result = subprocess.run(
        [sys.executable, str(dags / f"{dag_id}.py")], env=env, cwd=REPO, capture_output=True, text=True, timeout=300
    )
    output = result.stdout + result.stderr
    assert "DAG-RUN-STATE" in output, output[-4000:]
    with sqlite3.connect(home.path / "airflow.db") as db:
        run_id, state = db.execute(
            "SELECT run_id, state FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (dag_id,)
        ).fetchone()
        rows = db.execute(
            "SELECT task_id, state FROM task_instance WHERE dag_id = ? AND run_id = ?", (dag_id, run_id)
        ).fetchall()
    return state, dict(rows), output


@pytest.mark.slow
@pytest.mark.parametrize("deferrable", [True, False], ids=["deferred", "inline"])
def test_register_operator_in_a_dag_run(
    home: AirflowHome, encord: FakeEncord, tmp_path: Path, deferrable: bool
) -> None:
    encord.configure(job_seconds=1.5, unit_errors={r"/bad-": "Expected an image, got a file of type text/html"})
    run = tmp_path / "run"
    plan = plan_run(run, 50)
    state, tasks, output = dag_test(home, run, plan, deferrable)
    assert state == "success" and set(tasks.values()) == {"success"}, output[-4000:]
    if deferrable:
        assert "running trigger in line" in output and output.count("Trigger completed") == len(plan.batches)

    held = encord.state()["registered"][f"folder:{FOLDER}"]
    for batch in plan.batches:
        outcomes = read_outcomes(outcome_path(run / batch.path))
        assert outcomes is not None and len(outcomes) == batch.items
        for item, outcome in outcomes.items():
            url = f"https://bkt.s3.eu-west-2.amazonaws.com{item}"
            if "/bad-" in item:
                assert outcome.outcome is OutcomeKind.BLOCKED and "text/html" in outcome.reason
                assert url not in held
            else:
                assert outcome.outcome is OutcomeKind.REGISTERED and held[url] == 1
        assert (run / "jobs" / batch.path.rpartition("/")[2]).exists()
    assert len(encord.state()["jobs"]) == len(plan.batches)

    secret_lines = [line for line in encord.private_key.splitlines() if not line.startswith("-----")]
    texts = [output] + [p.read_text(errors="replace") for p in (home.path / "logs").rglob("*") if p.is_file()]
    texts += [p.read_text() for p in run.rglob("*.json")]
    with sqlite3.connect(home.path / "airflow.db") as db:
        for table in ("xcom", "trigger", "task_instance", "rendered_task_instance_fields"):
            texts += [repr(row) for row in db.execute(f"SELECT * FROM {table}").fetchall()]
    leaks = [line for line in secret_lines if any(line in text for text in texts)]
    assert not leaks


def test_the_trigger_serializes_to_its_classpath() -> None:
    trigger = EncordJobTrigger(
        encord_conn_id="encord_default",
        destination={"folder_uuid": FOLDER, "dataset_hash": None, "integration_id": INTEGRATION, "ignore_errors": True},
        job_id="job-1",
        poll_interval=5,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_ingest.platforms.encord.trigger.EncordJobTrigger"
    assert kwargs["destination"]["ignore_errors"] is True and kwargs["job_id"] == "job-1"
    assert EncordJobTrigger(**kwargs).serialize() == (classpath, kwargs)


def test_a_trigger_stored_under_the_old_classpath_still_loads() -> None:
    """A task deferred before the move left ``airflow_ingest.triggers.encord.EncordJobTrigger`` in the database."""
    import importlib

    assert importlib.import_module("airflow_ingest.triggers.encord").EncordJobTrigger is EncordJobTrigger
