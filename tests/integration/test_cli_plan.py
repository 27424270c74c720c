"""`airflow-ingest plan` as a user runs it, against moto server: files written, nothing sent."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.harness import BIN, MotoS3

BUCKET = "plan-bucket"
KEYS = [f"studies/s{s}/series{r}/{i}.dcm" for s in (1, 2) for r in (1, 2) for i in (1, 2, 10)] + ["studies/readme.md"]


@pytest.fixture(scope="module")
def seeded(s3: MotoS3) -> MotoS3:
    s3.client().create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    s3.seed(BUCKET, [(k, 100) for k in KEYS])
    return s3


def plan(s3: MotoS3, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AIRFLOW_CONN_AWS_DEFAULT": s3.conn()}
    return subprocess.run(
        [str(BIN / "airflow-ingest"), "plan", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_plans_encord_csv_by_study(seeded: MotoS3, tmp_path: Path) -> None:
    result = plan(
        seeded, f"s3://{BUCKET}/studies/", "--platform", "encord", "--format", "csv", "--layout", "study",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["objects"], summary["items"], summary["skipped"], summary["batches"]) == (13, 2, 1, 1)
    document = json.loads((tmp_path / "plan.json").read_text())
    assert document["batches"][0]["path"] == "batch-00001.csv" and document["batches"][0]["entries"] == 4
    rows = (tmp_path / "batch-00001.csv").read_text().splitlines()
    assert rows[0] == "ObjectUrl,Series title"
    assert rows[1] == f"https://{BUCKET}.s3.eu-west-2.amazonaws.com/studies/s1/series1/1.dcm,studies/s1/series1"
    assert rows[3].startswith(f"https://{BUCKET}.s3.eu-west-2.amazonaws.com/studies/s1/series1/10.dcm")
    assert document["skipped"][0]["url"] == f"s3://{BUCKET}/studies/readme.md"
    assert result.stderr.strip().splitlines()[-1].startswith("plan: 13 objects")


def test_plans_darwin_and_redbrick(seeded: MotoS3, tmp_path: Path) -> None:
    darwin = plan(
        seeded, f"s3://{BUCKET}/", "--platform", "darwin", "--dataset", "ds", "--storage", "st", "--layout", "folder",
        "--max-entries", "3", "--out", str(tmp_path / "d"),
    )  # fmt: skip
    assert darwin.returncode == 0, darwin.stderr
    assert json.loads(darwin.stdout)["batches"] == 2
    payload = json.loads((tmp_path / "d" / "batch-00001.json").read_text())
    assert len(payload["items"]) == 3 and {s["slot_name"] for s in payload["items"][0]["slots"]} == {"0"}
    redbrick = plan(
        seeded, f"s3://{BUCKET}/studies/", "--platform", "redbrick", "--storage-id",
        "3fa85f64-5717-4562-b3fc-2c963f66afa6", "--layout", "study", "--out", str(tmp_path / "r"),
    )  # fmt: skip
    assert redbrick.returncode == 0, redbrick.stderr
    tasks = json.loads((tmp_path / "r" / "batch-00001.json").read_text())
    assert [t["name"] for t in tasks] == ["studies/s1", "studies/s2"] and len(tasks[0]["series"]) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--platform", "redbrick"], "target.storage_id"),
        (["--platform", "darwin", "--dataset", "My Data", "--storage", "s"], "target.dataset_slug='My Data'"),
        (["--platform", "darwin", "--dataset", "d", "--storage", "s", "--max-entries", "0"], "max_entries=0"),
        (["--platform", "encord", "--max-entries", "20000"], "at most 10,000 entries"),
    ],
)
def test_bad_plan_options_are_named(seeded: MotoS3, tmp_path: Path, args: list[str], message: str) -> None:
    result = plan(seeded, f"s3://{BUCKET}/", *args, "--out", str(tmp_path))
    assert result.returncode == 2 and message in result.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "plan.json").exists()
