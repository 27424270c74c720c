"""nightly_sync and reuse_example run for real: `airflow dags test` against moto, the GCS emulator and fake V7."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from tests.harness import AirflowHome, FakeDarwin, GcsEmulator, MotoS3

BUCKET = "dag-bucket"


@pytest.mark.slow
def test_nightly_sync_sends_only_what_is_new_and_announces_it(
    airflow_home: AirflowHome, s3: MotoS3, darwin: FakeDarwin, tmp_path: Path
) -> None:
    env = {
        "AIRFLOW_INGEST_NIGHTLY_SOURCE": f"s3://{BUCKET}/nightly/",
        "AIRFLOW_INGEST_NIGHTLY_STATE": f"file://{tmp_path}/state",
    }
    s3.seed(BUCKET, [(f"nightly/day1/{i:03d}.jpg", 10) for i in range(40)])

    first = airflow_home.dags_test("nightly_sync", {}, **env)
    assert first.state == "success", first.output[-3000:]
    assert first.task("sync.announce") == "success" and first.task("sync.commit") == "success"
    report = first.report()
    assert report["totals"]["registered"] == 40
    start, end = map(datetime.fromisoformat, report["data_interval"])  # what the run covered, in the report
    assert start <= end and end.tzinfo is not None

    s3.seed(BUCKET, [(f"nightly/day2/{i:03d}.jpg", 10) for i in range(5)])
    second = airflow_home.dags_test("nightly_sync", {}, **env)
    assert second.state == "success", second.output[-3000:]
    assert second.report()["totals"] == {**second.report()["totals"], "registered": 5, "items": 5, "duplicate": 0}
    assert len(darwin.state()["registered"]) == 45

    third = airflow_home.dags_test("nightly_sync", {}, **env)
    assert third.state == "success" and third.task("sync.announce") == "skipped"
    assert third.report()["totals"]["items"] == 0
    with sqlite3.connect(airflow_home.path / "airflow.db") as db:
        events = db.execute(
            "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id "
            "WHERE a.uri = 'x-airflow-ingest://darwin/demo-dataset' AND e.source_dag_id = 'nightly_sync'"
        ).fetchall()
    assert sorted(json.loads(extra)["registered"] for (extra,) in events) == [5, 40]  # none for the empty night


@pytest.mark.slow
def test_reuse_example_runs_the_group_twice_over_two_clouds_and_queues_the_downstream_dag(
    airflow_home: AirflowHome, s3: MotoS3, gcs: GcsEmulator, darwin: FakeDarwin
) -> None:
    s3.seed(BUCKET, [(f"frames/cam{i}.jpg", 10) for i in range(12)])
    gcs.seed("scan-bucket", [(f"scans/study{s}/slice_{i}.dcm", 10) for s in range(3) for i in range(4)])
    conf = {"frames": f"s3://{BUCKET}/frames/", "scans": "gs://scan-bucket/scans/"}
    env = {"AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT": gcs.conn(), "STORAGE_EMULATOR_HOST": gcs.url}

    run = airflow_home.dags_test("reuse_example", conf, **env)

    assert run.state == "success", run.output[-3000:]
    assert run.task("frames.announce") == "success" and run.task("scans.announce") == "success"
    registered = {(r["path"], r["name"]) for r in darwin.state()["registered"]}
    assert len(registered) == 12 + 3  # twelve frames, and each study folder one DICOM item
    assert ("/scans", "study1") in registered
    with sqlite3.connect(airflow_home.path / "airflow.db") as db:
        queued = db.execute(
            "SELECT q.target_dag_id FROM asset_dag_run_queue q JOIN asset a ON a.id = q.asset_id "
            "WHERE a.uri = 'x-airflow-ingest://darwin/demo-dataset'"
        ).fetchall()
    assert queued == [("reuse_example_downstream",)]
