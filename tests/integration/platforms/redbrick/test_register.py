"""Thousands of planned objects into the fake RedBrick with faults on, a crash mid-run and a re-run; and the
operator in a real ``dag.test()``: every object ends registered exactly once on the fake or reported with a reason.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.items import Layout
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.outcomes import Outcome, OutcomeKind
from airflow_ingest.core.plan import Plan, make_plan, path_opener, read_batch_index
from airflow_ingest.core.report import outcome_path, read_outcomes, report_rows, write_outcomes
from airflow_ingest.platforms.redbrick.answers import redbrick_retry
from airflow_ingest.platforms.redbrick.documents import RedBrickManifests
from airflow_ingest.platforms.redbrick.target import RedBrickTarget
from tests.fakes.redbrick import FakeRedBrick
from tests.harness import REPO, AirflowHome

STORAGE = FakeRedBrick.STORAGE_ID
PROJECT = FakeRedBrick.PROJECT_ID
BAD = r"corrupt"
BAD_REASON = "not a readable image"


def synthetic_objects(count: int, bucket: str = "scans") -> list[StoredObject]:
    """A listing in key order: images across sites, one in 97 of them "corrupt" (RedBrick refuses those)."""
    when = datetime(2025, 1, 1, tzinfo=timezone.utc)
    keys = sorted(
        f"site{i % 5}/{'corrupt-' if i % 97 == 13 else ''}img_{i:05d}{('.png', '.jpg', '.dcm')[i % 3]}"
        for i in range(count)
    )
    return [StoredObject(f"s3://{bucket}/{k}", bucket, k, 100 + len(k), f"{n:032x}", when) for n, k in enumerate(keys)]


def plan_run(run_dir: Path, objects: list[StoredObject], max_entries: int = 50) -> Plan:
    builder = RedBrickManifests(RedBrickTarget(storage_id=STORAGE))
    return make_plan(objects, builder, Limits(max_entries=max_entries), path_opener(run_dir), layout=Layout.FILE)


def register_pending(run_dir: Path, conn_id: str) -> None:
    """What a sync run does per batch: send what has no outcome yet or failed retryably; keep the rest.

    Run in a subprocess by the crash test (``python -c``), and in-process for the re-run.
    """
    from airflow_ingest.platforms.redbrick.hook import RedBrickHook
    from airflow_ingest.platforms.redbrick.register import register_batch

    plan = Plan.from_json(json.loads((run_dir / "plan.json").read_text()))
    hook = RedBrickHook(conn_id, max_attempts=4, wait_initial=0.05, wait_max=3)
    for batch in plan.batches:
        manifest = run_dir / batch.path
        ids = [str(line["item"]) for line in read_batch_index(run_dir, batch)]
        done = read_outcomes(outcome_path(manifest)) or {}
        resend = {i for i in ids if i not in done or (done[i].outcome is OutcomeKind.FAILED and done[i].retryable)}
        if not resend:
            continue
        body = redbrick_retry(manifest.read_text(), resend)
        assert body is not None
        subset = [i for i in ids if i in resend]
        fresh = {o.item: o for o in register_batch(hook, body, PROJECT, STORAGE, item_ids=subset)}
        write_outcomes(outcome_path(manifest), [fresh.get(i) or done[i] for i in ids])


def spread(faults: list[dict[str, Any]], gap: int) -> list[dict[str, Any]]:
    """Faults separated by ``gap`` requests each (an empty fault is a request served normally)."""
    return [entry for fault in faults for entry in ([{}] * gap + [fault])]


@pytest.mark.slow
def test_thousands_of_objects_with_faults_a_crash_and_a_rerun_register_each_object_exactly_once(
    redbrick: FakeRedBrick, tmp_path: Path
) -> None:
    objects = synthetic_objects(3000)
    bad = {o.url for o in objects if "corrupt" in o.key}
    plan = plan_run(tmp_path, objects)
    assert plan.items == 3000 and len(plan.batches) == 60 and len(bad) == 31
    faults = [
        {"status": 500},
        {"status": 429, "retry_after": 1},
        {"status": 429},  # without Retry-After: backoff
        {"delay": 1.5, "op": "createDatapointSDK"},  # slow: past the 1 s timeout
        {"status": 500, "after_commit": True, "op": "createDatapointSDK"},  # committed, answer lost
        {"drop": True, "after_commit": True, "op": "createDatapointSDK"},
        {"malformed": True, "op": "validateAndConvertToImportFormatSDK"},
        {"status": 502},
        {"null_answer": True, "op": "createDatapointSDK"},  # the SDK's {}: failed, retryable
        *[{"status": 503, "op": "validateAndConvertToImportFormatSDK"}] * 4,  # a whole batch gives up
        {"delay": 1.5, "after_commit": True, "op": "createDatapointSDK"},
    ]
    redbrick.configure(faults=spread(faults, 60), bad_items={BAD: BAD_REASON})
    conn = redbrick.conn(timeout=1, concurrency=4)

    env = {**os.environ, "AIRFLOW_CONN_REDBRICK_BULK": conn, "PYTHONPATH": str(REPO)}
    code = (
        "import sys; from pathlib import Path; "
        "from tests.integration.platforms.redbrick.test_register import register_pending; "
        "register_pending(Path(sys.argv[1]), 'redbrick_bulk')"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 120
    while len(redbrick.tasks()) < 1200:
        assert process.poll() is None, process.stdout.read().decode()[-3000:] if process.stdout else ""
        assert time.monotonic() < deadline, "the first run made too little progress"
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)  # a worker lost mid-run
    output = process.communicate(timeout=30)[0].decode()
    crashed_with = len(redbrick.tasks())
    assert 1200 <= crashed_with < 3000 - len(bad)
    written = sorted(p.name for p in (tmp_path / "outcomes").iterdir())
    assert 0 < len(written) < 60  # some batches were recorded, not all
    assert FakeRedBrick.API_KEY not in output

    redbrick.configure(faults=[])
    os.environ["AIRFLOW_CONN_REDBRICK_BULK"] = conn
    try:
        register_pending(tmp_path, "redbrick_bulk")
    finally:
        del os.environ["AIRFLOW_CONN_REDBRICK_BULK"]

    # Object by object: the report says what became of it, and the fake agrees.
    tasks = redbrick.tasks()
    holders: Counter[str] = Counter(path for task in tasks for path in task["items"])
    by_name = {task["name"]: task for task in tasks}
    assert len(by_name) == len(tasks) and max(holders.values()) == 1  # no task twice, no object in two tasks
    rows = {row.objects: row for row, _ in report_rows(tmp_path, plan)}
    assert len(rows) == 3000
    for obj in objects:
        row = rows[obj.url]
        if obj.url in bad:
            assert (row.outcome, row.retryable) == ("blocked", False) and BAD_REASON in row.reason, row
            assert holders[obj.key] == 0 and obj.key not in by_name
        else:
            assert row.outcome in ("registered", "duplicate"), row
            assert holders[obj.key] == 1 and by_name[obj.key]["items"] == [obj.key]
            assert row.item == "/" + obj.key
    outcomes = Counter(row.outcome for row in rows.values())
    assert outcomes["duplicate"] >= 2  # lost answers and the crashed batch came back as duplicates
    assert len(tasks) == 3000 - len(bad)
    log = redbrick.state()["requests"]
    assert {429, 500, 502, 503} <= {r["status"] for r in log}
    assert sum(r["op"] == "validateAndConvertToImportFormatSDK" for r in log) < 60 * 16  # narrowing stayed bounded


DAG_FILE = """
from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_ingest.operators.redbrick import RedBrickRegisterOperator

with DAG("redbrick_register_test", schedule=None, start_date=datetime(2025, 1, 1), catchup=False) as dag:
    RedBrickRegisterOperator(
        task_id="register", run_dir={good!r}, batches=[1, 1], storage_id={storage!r}, redbrick_conn_id="redbrick_ok",
        wait_initial=0.05,
    )
    RedBrickRegisterOperator(
        task_id="refused", run_dir={refused!r}, batches="1", storage_id={storage!r},
        redbrick_conn_id="redbrick_wrong_key",
    )

if __name__ == "__main__":
    dag.test()
"""


@pytest.mark.slow
def test_the_operator_in_a_real_dag_test_records_outcomes_and_never_leaks_the_key(
    redbrick: FakeRedBrick, tmp_path: Path
) -> None:
    objects = synthetic_objects(120, bucket="dagscans")
    good_run, refused_run = tmp_path / "run-good", tmp_path / "run-refused"
    plan = plan_run(good_run, objects, max_entries=200)
    plan_run(refused_run, objects[:3])
    good_manifest, refused_manifest = good_run / plan.batches[0].path, refused_run / "manifests/batch-00001.json"
    dag_file = tmp_path / "dags" / "redbrick_register_test.py"
    dag_file.parent.mkdir()
    dag_file.write_text(
        DAG_FILE.format(good=str(good_run), refused=str(refused_run), storage=STORAGE), encoding="utf-8"
    )
    redbrick.configure(
        bad_items={BAD: BAD_REASON},
        faults=spread([{"status": 500, "after_commit": True, "op": "createDatapointSDK"}, {"status": 503}], 20),
    )
    wrong_key = "w" * 43
    home = AirflowHome(
        tmp_path / "airflow-home",
        {"redbrick_ok": redbrick.conn(), "redbrick_wrong_key": redbrick.conn(api_key=wrong_key)},
    )
    home.migrate()
    env = home.env(AIRFLOW__CORE__DAGS_FOLDER=str(dag_file.parent))
    result = subprocess.run(
        [sys.executable, str(dag_file)], env=env, cwd=REPO, capture_output=True, text=True, timeout=300
    )
    output = result.stdout + result.stderr
    with sqlite3.connect(home.path / "airflow.db") as db:
        states = dict(db.execute("SELECT task_id, state FROM task_instance").fetchall())
        xcoms = {(t, k): v for t, k, v in db.execute("SELECT task_id, key, value FROM xcom").fetchall()}
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        dump = "".join(repr(row) for table in tables for row in db.execute(f"SELECT * FROM {table}"))
    assert states == {"register": "success", "refused": "failed"}, output[-4000:]

    counts = json.loads(xcoms[("register", "return_value")])
    # one creation committed and lost its answer: resent, it came back as a duplicate
    assert counts == {"registered": 117, "duplicate": 1, "blocked": 2, "failed": 0}
    link = json.loads(xcoms[("register", "_link_RedBrickProjectLink")])
    assert link == f"https://app.redbrickai.com/{FakeRedBrick.ORG_ID}/projects/{PROJECT}"
    recorded = [Outcome.from_json(o) for o in json.loads(outcome_path(good_manifest).read_text())]
    assert [o.item for o in recorded] == ["/" + o.key for o in objects]
    blocked = {o.item for o in recorded if o.outcome is OutcomeKind.BLOCKED}
    assert blocked == {"/" + o.key for o in objects if "corrupt" in o.key}
    assert not outcome_path(refused_manifest).exists()
    assert "HTTP 401" in output and "redbrick_wrong_key" in output
    assert len(redbrick.tasks()) == 118

    for secret in (FakeRedBrick.API_KEY, wrong_key):
        leaks = [
            str(p) for p in (home.path / "logs").rglob("*") if p.is_file() and secret in p.read_text(errors="replace")
        ]
        files = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix in (".json", ".jsonl", ".csv")]
        leaks += [str(p) for p in files if secret.encode() in p.read_bytes()]
        leaks += ["metadata database"] * (secret in dump) + ["dag.test output"] * (secret in output)
        assert leaks == [], leaks
