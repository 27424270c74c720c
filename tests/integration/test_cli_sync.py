"""`airflow-ingest sync` against moto server and the fake platforms: exactly once, across runs and crashes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.fakes.encord import FOLDER as ENCORD_FOLDER
from tests.fakes.encord import INTEGRATION as ENCORD_INTEGRATION
from tests.fakes.encord import FakeEncord
from tests.fakes.redbrick import FakeRedBrick
from tests.harness import BIN, FakeDarwin, MotoS3


def sync(
    s3: MotoS3, darwin: FakeDarwin, bucket: str, tmp: Path, *extra: str, wait: bool = True, conn: str | None = None
) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
    env = {**os.environ, "AIRFLOW_CONN_AWS_DEFAULT": s3.conn(), "AIRFLOW_CONN_DARWIN_TEST": conn or darwin.conn()}
    argv = [str(BIN / "airflow-ingest"), "sync", f"s3://{bucket}/", "--platform", "darwin",
            "--platform-conn-id", "darwin_test", "--dataset", "demo-dataset", "--storage", "demo-storage",
            "--state", str(tmp / "state"), "--runs", str(tmp / "runs"), *extra]  # fmt: skip
    if not wait:
        return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)


def summary(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert result.stdout, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_a_second_sync_sends_nothing_and_changes_are_told_apart(s3: MotoS3, darwin: FakeDarwin, tmp_path: Path) -> None:
    bucket = "sync-bucket"
    s3.seed(bucket, [(f"img/{i:04d}.png", 10) for i in range(300)])

    first = sync(s3, darwin, bucket, tmp_path)
    assert first.returncode == 0, first.stderr
    totals = summary(first)
    assert Path(str(totals.pop("report"))).exists()
    assert totals == {
        "listed": 300, "new": 300, "changed": 0, "unchanged": 0, "vanished": 0, "items": 300, "skipped": 0,
        "batches": 3, "registered": 300, "duplicate": 0, "blocked": 0, "failed": 0, "retryable": 0,
        "ledger_entries": 300, "retry_manifests": [],
    }  # fmt: skip
    requests_after_first = len(darwin.state()["requests"])

    second = sync(s3, darwin, bucket, tmp_path)
    assert second.returncode == 0 and summary(second)["unchanged"] == 300 and summary(second)["batches"] == 0
    assert len(darwin.state()["requests"]) == requests_after_first  # no registration request at all

    client = s3.client()
    client.put_object(Bucket=bucket, Key="img/0001.png", Body=b"replaced")
    client.delete_object(Bucket=bucket, Key="img/0002.png")
    s3.seed(bucket, [("img/new.png", 5)])
    third = summary(sync(s3, darwin, bucket, tmp_path))  # type: ignore[arg-type]
    assert (third["new"], third["changed"], third["vanished"], third["registered"]) == (1, 1, 1, 1)
    assert len(darwin.state()["registered"]) == 301


def test_a_blocked_item_exits_3_with_the_report(s3: MotoS3, darwin: FakeDarwin, tmp_path: Path) -> None:
    s3.seed("sync-blocked", [("a.png", 1), ("b.png", 1)])
    darwin.configure(block={r"^b\.png$": "UNSUPPORTED_FILE"})
    result = sync(s3, darwin, "sync-blocked", tmp_path)
    assert result.returncode == 3
    report = Path(str(summary(result)["report"]))
    assert "UNSUPPORTED_FILE" in report.read_text() and summary(result)["ledger_entries"] == 1
    assert FakeDarwin.API_KEY not in result.stdout + result.stderr + report.read_text()


def test_a_sync_killed_mid_run_then_rerun_registers_every_object_exactly_once(
    s3: MotoS3, darwin: FakeDarwin, tmp_path: Path
) -> None:
    bucket = "sync-crash"
    keys = [f"c/{i:04d}.jpg" for i in range(250)]
    s3.seed(bucket, [(k, 10) for k in keys])
    darwin.configure(faults=[{"delay": 2.0}] * 5)  # 10 s in all: time to kill it part-way on a busy machine
    process = sync(s3, darwin, bucket, tmp_path, "--max-entries", "50", wait=False)
    assert isinstance(process, subprocess.Popen)
    deadline = time.monotonic() + 120
    while len(darwin.state()["registered"]) < 100 and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    partial = len(darwin.state()["registered"])
    assert 100 <= partial < 250  # killed part-way, before its ledger commit

    rerun = sync(s3, darwin, bucket, tmp_path, "--max-entries", "50")
    assert rerun.returncode == 0, rerun.stderr
    result = summary(rerun)  # type: ignore[arg-type]
    assert (result["registered"], result["duplicate"], result["failed"]) == (250 - partial, partial, 0)
    registered = darwin.state()["registered"]
    assert sorted(r["storage_key"] for r in registered) == keys  # every object once, none twice
    assert result["ledger_entries"] == 250
    again = summary(sync(s3, darwin, bucket, tmp_path))  # type: ignore[arg-type]
    assert again["batches"] == 0 and again["unchanged"] == 250


def test_sync_refuses_what_a_platform_cannot_take_before_listing(s3: MotoS3, tmp_path: Path) -> None:
    env = {**os.environ, "AIRFLOW_CONN_AWS_DEFAULT": s3.conn()}
    base = [str(BIN / "airflow-ingest"), "sync", "s3://sync-bucket/", "--platform", "encord", "--platform-conn-id",
            "x", "--state", str(tmp_path)]  # fmt: skip
    csv = subprocess.run([*base, "--format", "csv"], capture_output=True, text=True, env=env, timeout=120)
    assert csv.returncode == 2 and "Encord's SDK registers JSON specs; use --format json" in csv.stderr
    nowhere = subprocess.run([*base, "--integration", "i"], capture_output=True, text=True, env=env, timeout=120)
    assert nowhere.returncode == 2 and "folder" in nowhere.stderr


def test_retryable_failures_get_a_retry_manifest_that_resends_exactly_them(
    s3: MotoS3, darwin: FakeDarwin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3.seed("sync-retry", [(f"r/{i:03d}.png", 1) for i in range(30)])
    darwin.configure(faults=[{}, {"status": 503}, {"status": 503}])  # batch 2 fails twice: out of attempts
    conn = darwin.conn(max_attempts=2, wait_initial=0.05)
    result = sync(s3, darwin, "sync-retry", tmp_path, "--max-entries", "10", conn=conn)
    assert result.returncode == 3
    totals = summary(result)  # type: ignore[arg-type]
    assert (totals["registered"], totals["failed"], totals["retryable"]) == (20, 10, 10)
    (retry,) = totals["retry_manifests"]  # type: ignore[misc]
    payload = json.loads(Path(retry).read_text())
    assert [i["name"] for i in payload["items"]] == [f"{i:03d}.png" for i in range(10, 20)]
    from airflow_ingest.platforms.darwin.hook import DarwinHook

    monkeypatch.setenv("AIRFLOW_CONN_DARWIN_TEST", conn)
    answer = DarwinHook("darwin_test").register_existing(Path(retry).read_text())
    assert len(answer["items"]) == 10 and len(darwin.state()["registered"]) == 30


@pytest.mark.parametrize("platform", ["encord", "redbrick"])
def test_sync_registers_into_encord_and_redbrick_once_and_the_second_sync_sends_nothing(
    platform: str, s3: MotoS3, encord: FakeEncord, redbrick: FakeRedBrick, tmp_path: Path
) -> None:
    bucket = f"sync-{platform}"
    s3.seed(bucket, [(f"cams/{i:03d}.jpg", 10) for i in range(120)])
    if platform == "encord":
        conn = encord.conn()
        extra = ["--folder", ENCORD_FOLDER, "--integration", ENCORD_INTEGRATION, "--max-entries", "50"]
    else:
        conn = redbrick.conn()
        extra = ["--storage-id", FakeRedBrick.STORAGE_ID, "--project-id", FakeRedBrick.PROJECT_ID]
    env = {**os.environ, "AIRFLOW_CONN_AWS_DEFAULT": s3.conn(), "AIRFLOW_CONN_PLATFORM_TEST": conn}
    argv = [str(BIN / "airflow-ingest"), "sync", f"s3://{bucket}/", "--platform", platform,
            "--platform-conn-id", "platform_test", "--state", str(tmp_path / "state"),
            "--runs", str(tmp_path / "runs"), *extra]  # fmt: skip

    first = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-3000:]
    assert summary(first)["registered"] == 120 and summary(first)["ledger_entries"] == 120
    if platform == "encord":
        held = [url for urls in encord.state()["registered"].values() for url in urls]
        requests = len(encord.state()["requests"])
    else:
        held = [task["name"] for task in redbrick.tasks(FakeRedBrick.PROJECT_ID)]
        requests = len(redbrick.state()["requests"])
    assert len(held) == len(set(held)) == 120

    second = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-3000:]
    assert summary(second)["unchanged"] == 120 and summary(second)["batches"] == 0
    after = encord.state() if platform == "encord" else redbrick.state()
    assert len(after["requests"]) == requests  # not a single call to the platform

    # the platform's secret is nowhere: not in the CLI's output, not in any file of the runs or the ledger
    secret = max(encord.private_key.splitlines(), key=len) if platform == "encord" else FakeRedBrick.API_KEY
    printed = first.stdout + first.stderr + second.stdout + second.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    assert secret not in printed and written == []
