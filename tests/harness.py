"""Real parts for tests and the demo: servers on free loopback ports, an Airflow home, DAG runs.

Servers run as their own processes (moto server, the fake V7 Darwin) so Airflow's task processes reach
them over HTTP exactly as they would reach the real services; each is stopped by its process group.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Service:
    """A server process in its own process group, on 127.0.0.1, stopped with its children.

    ``env`` is the process's whole environment when given (an Airflow home's, say); otherwise it inherits ours.
    """

    def __init__(self, name: str, argv: list[str], port: int, log_dir: Path, env: Mapping[str, str] | None = None):
        self.name = name
        self.port = port
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            argv,
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=dict(os.environ if env is None else env),
        )
        self._wait_listening()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_listening(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited early; see {self.log_path}:\n{self.log_path.read_text()[-2000:]}"
                )
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"{self.name} did not listen on {self.port} within {timeout:g} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._log.close()


def s3_client(endpoint: str) -> Any:
    """A plain boto3 S3 client for seeding and for the raw side of benchmarks (moto takes any keys)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
        config=Config(max_pool_connections=32),
    )


def aws_conn(endpoint: str, **extra: object) -> str:
    """An Airflow AWS connection (JSON form) to an S3 endpoint on loopback, with moto's throwaway keys."""
    fields = {"endpoint_url": endpoint, "region_name": "us-east-1", **extra}
    return json.dumps({"conn_type": "aws", "login": "testing", "password": "testing", "extra": fields})


class MotoS3(Service):
    """moto server: real S3 HTTP API on loopback (``tests/fakes/s3_server.py``: moto's app, seeded in-process)."""

    def __init__(self, log_dir: Path):
        port = free_port()
        argv = [sys.executable, "-m", "tests.fakes.s3_server", "--port", str(port)]
        super().__init__("moto", argv, port, log_dir)

    def conn(self) -> str:
        """The Airflow connection (JSON form) that points S3Hook at this server."""
        return aws_conn(self.url)

    def client(self) -> Any:
        return s3_client(self.url)

    def seed(self, bucket: str, objects: Iterable[tuple[str, int]]) -> int:
        """Create ``bucket`` (if needed) and put each (key, size) object in moto's backend; returns the count."""
        pairs = [[key, size] for key, size in objects]
        answer = requests.post(f"{self.url}/_seed/{quote(bucket)}", json=pairs, timeout=600)
        answer.raise_for_status()
        return int(answer.json()["seeded"])


class GcsEmulator(Service):
    """gcp-storage-emulator (in memory). Clients find it through ``STORAGE_EMULATOR_HOST``; it does not paginate."""

    def __init__(self, log_dir: Path):
        port = free_port()
        argv = [str(BIN / "gcp-storage-emulator"), "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory"]
        super().__init__("gcs-emulator", argv, port, log_dir)

    def conn(self) -> str:
        return json.dumps({"conn_type": "google_cloud_platform", "extra": {"is_anonymous": True, "project": "test"}})

    def seed(self, bucket: str, objects: Iterable[tuple[str, int]]) -> int:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        os.environ["STORAGE_EMULATOR_HOST"] = self.url
        client = storage.Client(project="test", credentials=AnonymousCredentials())
        target = client.bucket(bucket)
        if not target.exists():
            client.create_bucket(bucket)
        items = list(objects)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda o: target.blob(o[0]).upload_from_string(b"x" * o[1]), items))
        return len(items)


class Azurite(Service):
    """Azurite's blob service, installed from npm into ``tests/azurite`` (``make test`` does it)."""

    ACCOUNT = "devstoreaccount1"
    KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    BIN = REPO / "tests" / "azurite" / "node_modules" / ".bin" / "azurite-blob"

    def __init__(self, log_dir: Path):
        port = free_port()
        argv = [str(self.BIN), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence"]
        # Azurite lags the SDK's API version; the check is skipped rather than pinning an old client.
        argv += ["--skipApiVersionCheck", "--loose", "--disableTelemetry", "--silent"]
        super().__init__("azurite", argv, port, log_dir)

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={self.ACCOUNT};AccountKey={self.KEY};"
            f"BlobEndpoint={self.url}/{self.ACCOUNT};"
        )

    def conn(self) -> str:
        return json.dumps({"conn_type": "wasb", "extra": {"connection_string": self.connection_string}})

    def seed(self, container: str, objects: Iterable[tuple[str, int]]) -> int:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import BlobServiceClient

        client = BlobServiceClient.from_connection_string(self.connection_string).get_container_client(container)
        with contextlib.suppress(ResourceExistsError):
            client.create_container()
        items = list(objects)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda o: client.upload_blob(o[0], b"x" * o[1], overwrite=True), items))
        return len(items)


class FakeService(Service):
    """A fake platform in its own process, driven through its control API (``tests/fakes/control.py``)."""

    def configure(self, **settings: Any) -> None:
        requests.post(f"{self.url}/_fake/configure", json=settings, timeout=10).raise_for_status()

    def reset(self) -> None:
        requests.post(f"{self.url}/_fake/reset", timeout=10).raise_for_status()

    def state(self) -> dict[str, Any]:
        response = requests.get(f"{self.url}/_fake/state", timeout=30)
        response.raise_for_status()
        return dict(response.json())


class FakeDarwin(FakeService):
    """The fake V7 Darwin (``tests/fakes/darwin.py``) in its own process, driven through its control API."""

    API_KEY = "fake-darwin-key-0123456789"
    TEAM = "demo-team"

    def __init__(self, log_dir: Path):
        port = free_port()
        argv = [sys.executable, "-m", "tests.fakes.darwin", "--port", str(port), "--api-key", self.API_KEY]
        super().__init__("fake-darwin", [*argv, "--team", self.TEAM], port, log_dir)

    def conn(self, api_key: str | None = None, team: str | None = None, **extra: Any) -> str:
        return json.dumps(
            {
                "conn_type": "darwin",
                "host": self.url,
                "password": api_key or self.API_KEY,
                "extra": {"team_slug": team or self.TEAM, **extra},
            }
        )


@dataclass
class DagRunResult:
    run_id: str
    state: str
    tasks: dict[tuple[str, int], str]
    run_base: Path
    output: str
    xcoms: dict[tuple[str, int, str], Any]

    @property
    def run_dir(self) -> Path:
        """The run's folder, or the one task group's folder in it that listed something."""
        if (self.run_base / "listing.json").exists():
            return self.run_base
        listed = [p.parent for p in self.run_base.glob("*/listing.json")]
        return listed[0] if len(listed) == 1 else self.run_base

    def group_dir(self, group: str) -> Path:
        return self.run_base / group

    def task(self, task_id: str, map_index: int = -1) -> str:
        return self.tasks[(task_id, map_index)]

    def xcom(self, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        return self.xcoms[(task_id, map_index, key)]

    def report(self) -> dict[str, Any]:
        return dict(json.loads((self.run_dir / "report.json").read_text()))


class DagRunner:
    """One :mod:`tests.dag_runner` process: ``airflow`` CLI commands run in it one after another."""

    def __init__(self, env: Mapping[str, str], log: Path) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.dag_runner"],
            cwd=REPO,
            env=dict(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            start_new_session=True,
        )

    def run(self, args: list[str], env: Mapping[str, str], output: Path, timeout: float = 600.0) -> int:
        """Run ``airflow *args`` with ``env`` as its whole environment, its output to ``output``; the exit code."""
        assert self.process.stdin is not None and self.process.stdout is not None
        request = {"args": args, "env": dict(env), "output": str(output)}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            self.stop()
            why = f"took over {timeout:.0f} s" if not ready else "died"
            raise RuntimeError(f"airflow {' '.join(args[:3])} {why}; see {output} and {self._log.name}")
        return int(json.loads(line)["exit"])

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._log.close()


class AirflowHome:
    """An embedded Airflow (SQLite, LocalExecutor) whose DAGs folder is this repository's ``dags/``."""

    def __init__(self, path: Path, connections: Mapping[str, str] | None = None):
        self.path = path
        self.connections = dict(connections or {})
        self.runner: DagRunner | None = None

    def env(self, **extra: str) -> dict[str, str]:
        """This home's environment: its own connections only (a test's ``AIRFLOW_CONN_*`` must not leak in)."""
        env = {
            **{name: value for name, value in os.environ.items() if not name.startswith("AIRFLOW_CONN_")},
            "AIRFLOW_HOME": str(self.path),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",  # tests read INFO lines (a task's log, a Celery worker's ready)
            "AWS_EC2_METADATA_DISABLED": "true",
            "PYTHONPATH": str(REPO),
        }
        env.update({f"AIRFLOW_CONN_{conn_id.upper()}": value for conn_id, value in self.connections.items()})
        env.update(extra)
        return env

    def migrate(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self._airflow("db", "migrate")

    def dags_test(self, dag_id: str, conf: Mapping[str, Any], **env: str) -> DagRunResult:
        """``airflow dags test`` the DAG with ``conf``, then read the run's and its tasks' states.

        The command runs in this home's :mod:`tests.dag_runner` process, started at the first run and kept for
        the next (see there why), with exactly the environment a fresh ``airflow`` process would get.
        """
        output = self.path / "dags-test-output" / f"{time.time_ns()}.log"
        output.parent.mkdir(parents=True, exist_ok=True)
        code = self._runner().run(["dags", "test", dag_id, "-c", json.dumps(conf)], self.env(**env), output)
        printed = output.read_text(errors="replace")
        result = subprocess.CompletedProcess(["airflow", "dags", "test", dag_id], code, printed)
        with sqlite3.connect(self.path / "airflow.db") as db:
            row = db.execute(
                "SELECT run_id, state FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (dag_id,)
            ).fetchone()
            if row is None:
                raise RuntimeError(f"airflow dags test {dag_id} created no run:\n{result.stdout[-4000:]}")
            tasks = db.execute(
                "SELECT task_id, map_index, state FROM task_instance WHERE dag_id = ? AND run_id = ?", (dag_id, row[0])
            ).fetchall()
            xcoms = db.execute(
                "SELECT task_id, map_index, key, value FROM xcom WHERE dag_id = ? AND run_id = ?", (dag_id, row[0])
            ).fetchall()
        from airflow_ingest.operators.workspace import safe_segment

        run_base = self.path / "ingest-workspace" / dag_id / safe_segment(row[0])
        return DagRunResult(
            row[0],
            row[1],
            {(t, m): s for t, m, s in tasks},
            run_base,
            result.stdout,
            {(t, m, k): json.loads(v) if isinstance(v, (str, bytes)) else v for t, m, k, v in xcoms},
        )

    def leaks(self, secret: str, run: DagRunResult) -> list[str]:
        """Every place the secret shows up: task logs, the metadata DB (XCom, rendered fields), the run's files."""
        found = [
            str(p) for p in (self.path / "logs").rglob("*") if p.is_file() and secret in p.read_text(errors="replace")
        ]
        found += [str(p) for p in run.run_base.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
        with sqlite3.connect(self.path / "airflow.db") as db:
            for table in ("xcom", "rendered_task_instance_fields", "task_instance", "dag_run"):
                rows = db.execute(f"SELECT * FROM {table}").fetchall()
                found += [f"{table} row" for row in rows if secret in repr(row)]
        if secret in run.output:
            found.append("airflow dags test output")
        return found

    def _runner(self) -> DagRunner:
        if self.runner is None or self.runner.process.poll() is not None:
            self.runner = DagRunner(self.env(), self.path / "dag-runner.log")
        return self.runner

    def close(self) -> None:
        """Stop this home's ``dags test`` process, if one was started."""
        if self.runner is not None:
            self.runner.stop()
            self.runner = None

    def _airflow(self, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(BIN / "airflow"), *args],
            env=self.env(**env),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        result.stdout += result.stderr
        return result
