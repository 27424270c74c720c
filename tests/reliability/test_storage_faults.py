"""A storage server that fails a listing page mid-way: a passing fault costs nothing, a lasting one is named.

The emulators sit behind :class:`tests.fakes.fault_proxy.FaultProxy`, which fails chosen listing requests with
a 503, an answer cut in half or a dropped connection. Through the providers' own hooks (S3Hook, GCSHook,
WasbHook), a fault that passes must leave the listing exactly what it is without faults (the SDK's retry, or
ours for a cut S3 page); a fault that lasts must end the listing with a one-line error naming the source and
the connection, a non-zero exit and no summary claiming the listing was complete, and a sync must send nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_ingest.core.errors import StorageError
from airflow_ingest.core.urls import parse_source
from airflow_ingest.storage.listing import list_objects
from tests.fakes.fault_proxy import Fault, FaultProxy, Schedule
from tests.harness import BIN, Azurite, FakeDarwin, GcsEmulator, MotoS3, aws_conn

BUCKET = "flaky-bucket"
PAGE = 250


def keys(count: int, prefix: str = "pages") -> list[tuple[str, int]]:
    return [(f"{prefix}/{i:05d}.jpg", 1 + i % 50) for i in range(count)]


@pytest.fixture(scope="module")
def s3_proxy(s3: MotoS3) -> Iterator[FaultProxy]:
    s3.seed(BUCKET, keys(2500) + keys(300, "small"))  # ten pages of 250; three of 1,000, the CLI's
    proxy = FaultProxy(s3.url)
    yield proxy
    proxy.stop()


def s3_conn(proxy: FaultProxy, attempts: int | None = None) -> str:
    if attempts is None:
        return aws_conn(proxy.url)
    # how a user bounds botocore's retries: the connection's config_kwargs
    return aws_conn(proxy.url, config_kwargs={"retries": {"mode": "standard", "max_attempts": attempts}})


def listed(uri: str, conn_id: str) -> list[tuple[str, int, str]]:
    return [(o.key, o.size, o.etag) for o in list_objects(parse_source(uri), conn_id, page_size=PAGE)]


@pytest.mark.parametrize(
    "fault",
    [Fault(status=503), Fault(status=500), Fault(cut=True), Fault(dropped=True)],
    ids=["503", "500", "cut", "dropped"],
)
def test_s3_a_failed_page_is_retried_and_the_listing_is_unchanged(
    s3_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch, fault: Fault
) -> None:
    page = 3  # mid-way: two pages listed, seven to come
    monkeypatch.setenv("AIRFLOW_CONN_FLAKY_S3", s3_conn(s3_proxy))
    s3_proxy.configure(Schedule())
    clean = listed(f"s3://{BUCKET}/pages/", "flaky_s3")
    assert len(clean) == 2500 and s3_proxy.listings == 10

    s3_proxy.configure(Schedule(at={page: fault}))
    assert listed(f"s3://{BUCKET}/pages/", "flaky_s3") == clean
    assert s3_proxy.faults == [(page, fault)] and s3_proxy.listings == 11  # the failed page was asked again


def test_s3_a_lasting_failure_is_one_line_and_nothing_is_presented_as_complete(
    s3_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_FLAKY_S3", s3_conn(s3_proxy, attempts=2))
    s3_proxy.configure(Schedule(from_request=3))
    with pytest.raises(StorageError, match=rf"cannot list s3://{BUCKET}/pages/ \(connection 'flaky_s3'\)"):
        listed(f"s3://{BUCKET}/pages/", "flaky_s3")

    s3_proxy.configure(Schedule(from_request=2))
    env = {**os.environ, "AIRFLOW_CONN_FLAKY_S3": s3_conn(s3_proxy, attempts=2)}
    result = subprocess.run(
        [str(BIN / "airflow-ingest"), "ls", f"s3://{BUCKET}/pages/", "--conn-id", "flaky_s3"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(f"airflow-ingest: error: cannot list s3://{BUCKET}/pages/ (connection 'flaky_s3')")
    assert "ls: INCOMPLETE, stopped by the error below: 1,000 objects" in result.stderr  # never a plain summary
    assert "Traceback" not in result.stderr
    assert len(result.stdout.splitlines()) == 1000  # the first page, listed before the failure, and no more


def test_a_sync_whose_listing_fails_sends_nothing_and_the_next_one_registers_everything(
    s3_proxy: FaultProxy, darwin: FakeDarwin, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "AIRFLOW_CONN_FLAKY_S3": s3_conn(s3_proxy, attempts=2),
        "AIRFLOW_CONN_DARWIN_DEFAULT": darwin.conn(),
    }
    argv = [str(BIN / "airflow-ingest"), "sync", f"s3://{BUCKET}/small/", "--conn-id", "flaky_s3",
            "--platform", "darwin", "--platform-conn-id", "darwin_default", "--dataset", "demo-dataset",
            "--storage", "demo-storage", "--state", str(tmp_path / "state"),
            "--runs", str(tmp_path / "runs")]  # fmt: skip

    s3_proxy.configure(Schedule(from_request=1))
    failed = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    assert failed.returncode == 1, failed.stderr[-2000:]
    assert "cannot list" in failed.stderr and darwin.state()["registered"] == []

    s3_proxy.configure(Schedule())
    again = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert len(darwin.state()["registered"]) == 300


def test_gcs_a_failed_listing_is_retried_and_unchanged(gcs: GcsEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    gcs.seed(BUCKET, keys(60))  # the emulator answers a listing in one page
    proxy = FaultProxy(gcs.url)
    try:
        monkeypatch.setenv("AIRFLOW_CONN_FLAKY_GCS", gcs.conn())
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", proxy.url)
        clean = listed(f"gs://{BUCKET}/pages/", "flaky_gcs")
        assert len(clean) == 60
        for fault in (Fault(status=503), Fault(dropped=True)):
            proxy.configure(Schedule(at={1: fault}))
            assert listed(f"gs://{BUCKET}/pages/", "flaky_gcs") == clean
            assert proxy.faults == [(1, fault)]
    finally:
        proxy.stop()


def test_azure_a_failed_page_is_retried_and_the_listing_is_unchanged(
    azurite: Azurite, monkeypatch: pytest.MonkeyPatch
) -> None:
    azurite.seed(BUCKET, keys(600))
    proxy = FaultProxy(azurite.url)
    try:
        endpoint = azurite.connection_string.replace(azurite.url, proxy.url)
        monkeypatch.setenv(
            "AIRFLOW_CONN_FLAKY_WASB", json.dumps({"conn_type": "wasb", "extra": {"connection_string": endpoint}})
        )
        clean = listed(f"az://{BUCKET}/pages/", "flaky_wasb")
        assert len(clean) == 600 and proxy.listings == 3
        proxy.configure(Schedule(at={2: Fault(status=503)}))  # azure-storage-blob waits 15 s before its retry
        assert listed(f"az://{BUCKET}/pages/", "flaky_wasb") == clean
        assert proxy.faults == [(2, Fault(status=503))] and proxy.listings == 4
    finally:
        proxy.stop()
