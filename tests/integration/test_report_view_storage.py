"""The Ingest view reads a run folder in object storage as it reads a local one (moto S3 over HTTP)."""

from __future__ import annotations

import json

import pytest

from airflow_ingest.plugins.runs import RunReport, read_index, read_plan_target, retry_manifests
from tests.harness import MotoS3
from tests.unit.core.test_report_view import report_csv

BUCKET = "view-workspace"


def test_a_report_retry_manifests_and_plan_in_s3_are_read_through_objectstoragepath(
    s3: MotoS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_VIEW_S3", s3.conn())
    client = s3.client()
    client.create_bucket(Bucket=BUCKET)
    run = "ingest_manual/manual__2026-12-04T10:00:00+00:00/darwin"
    client.put_object(Bucket=BUCKET, Key=f"{run}/report.csv", Body=report_csv(1_000).encode())
    client.put_object(Bucket=BUCKET, Key=f"{run}/plan.json", Body=json.dumps({"platform": "darwin",
                      "target": {"dataset_slug": "d"}}).encode())  # fmt: skip
    for name in ("batch-00001.json", "batch-00003.json"):
        client.put_object(Bucket=BUCKET, Key=f"{run}/retry/{name}", Body=b"{}")
    base = f"s3://view_s3@{BUCKET}/{run}"

    index = read_index(f"{base}/report.csv")
    report = RunReport("darwin", "darwin.report", {"retry_dir": f"{base}/retry"}, None, run_dir=base)

    assert index.totals["items"] == 1_000 and index.page(query="frame_000993")["total"] == 1
    assert read_plan_target(base) == {"platform": "darwin", "target": {"dataset_slug": "d"}}
    assert retry_manifests(report) == ["batch-00001.json", "batch-00003.json"]
