"""A real ``ingest_manual`` run: no ERROR from the groups the branch skipped, and the Ingest view's buttons."""

from __future__ import annotations

import pytest

from airflow_ingest.operators.links import ingest_view_url
from tests.harness import AirflowHome, FakeDarwin, MotoS3

BUCKET = "links-bucket"


@pytest.mark.slow
def test_a_run_logs_no_xcom_error_from_skipped_groups_and_links_its_ingest_view(
    airflow_home: AirflowHome, s3: MotoS3, darwin: FakeDarwin
) -> None:
    s3.seed(BUCKET, [(f"cams/frame{i}.jpg", 10) for i in range(5)])

    run = airflow_home.dags_test("ingest_manual", {"source": f"s3://{BUCKET}/cams/"})

    assert run.state == "success", run.output[-3000:]
    assert {run.task(f"{group}.report") for group in ("encord", "redbrick")} == {"skipped"}
    errors = [line for line in run.output.splitlines() if "XCom not found" in line or "[error" in line]
    assert errors == [], errors[:5]
    run_id = run.run_id
    view = ingest_view_url("ingest_manual", run_id)
    assert run.xcom("darwin.report", "_link_IngestViewLink") == view
    assert run.xcom("darwin.register", "_link_IngestViewLink", map_index=0) == view
    assert view.endswith("/plugin/ingest") and "/runs/manual__" in view
