"""The ``make up`` stack shaped as a production deployment: ``make up EXECUTOR=celery``.

:class:`CeleryStack` is :class:`tests.stack.Stack` with Airflow's distributed engine, all on 127.0.0.1 on free ports:

- Postgres (Debian's ``postgresql``, a throwaway cluster made by ``initdb``) as the metadata database and the Celery
  result backend, and Redis (Debian's ``redis-server``, no persistence) as the Celery broker;
- the CeleryExecutor; the scheduler, dag-processor, triggerer and api-server share one Airflow home;
- two Celery workers, each with an Airflow home and a temporary folder of its own: they share no local disk,
  only what a real deployment shares (the DAG files, the database through the API server, the broker, S3);
- the ingest workspace (``[airflow_ingest] workspace``) and nightly_sync's ledger on S3 (moto), given as
  ``s3://aws_default@bucket/prefix`` URIs, so a task can resume from files another worker wrote.

Losing a worker is recovered by Airflow's own settings, set here as the README recommends them:
``[scheduler] task_instance_heartbeat_timeout`` (:data:`HEARTBEAT_TIMEOUT`) marks a task whose worker stopped
heartbeating as failed, and the register tasks' ``retry_delay``
(:data:`airflow_ingest.task_groups.REGISTER_RETRY_DELAY`) starts the retry on a surviving worker.
"""

from __future__ import annotations

import base64
import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.harness import Service, free_port
from tests.stack import AirflowComponent, Stack, process_tree

WORKERS = ("worker-1", "worker-2")
WORKER_CONCURRENCY = 2
"""Task slots per worker: two workers of two fit this 2-core machine and still run mapped tasks side by side."""
SHARED_BUCKET = "ingest-shared"
WORKSPACE = f"s3://aws_default@{SHARED_BUCKET}/workspace"
STATE = f"s3://aws_default@{SHARED_BUCKET}/state"
HEARTBEAT_TIMEOUT = 60
"""``[scheduler] task_instance_heartbeat_timeout`` in seconds (Airflow's default: 300). A task process heartbeats
every 5 s (``[workers] min_heartbeat_interval``), so a minute is twelve missed beats, not a slow network."""
WORKER_NAME_VARIABLE = "AIRFLOW_INGEST_WORKER_NAME"


def worker_hostname() -> str:
    """``[core] hostname_callable`` of the stack: two workers on one machine would otherwise share a hostname,
    and a task instance's ``hostname`` is how the UI (and the tests) tell which worker ran it."""
    return os.environ.get(WORKER_NAME_VARIABLE) or socket.getfqdn()


def _postgres_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise RuntimeError(f"{name} not found under /usr/lib/postgresql: run `make system` (Debian's postgresql)")
    return str(found[-1])


def _as_owner(argv: list[str], owner: str | None) -> list[str]:
    """Postgres refuses to run as root: as root, run it as the ``postgres`` user Debian's package made."""
    return ["runuser", "-u", owner, "--", *argv] if owner else argv


class Postgres(Service):
    """A throwaway Postgres cluster in ``data_dir``, trusting loopback connections, with an ``airflow`` database."""

    USER = "airflow"
    DATABASE = "airflow"

    def __init__(self, data_dir: Path, log_dir: Path):
        owner = "postgres" if os.geteuid() == 0 else None
        data_dir.mkdir(parents=True, exist_ok=True)
        if owner:
            entry = pwd.getpwnam(owner)
            os.chown(data_dir, entry.pw_uid, entry.pw_gid)
        initdb = [_postgres_bin("initdb"), "-D", str(data_dir / "pgdata"), "-U", self.USER, "--auth=trust"]
        result = subprocess.run(
            _as_owner([*initdb, "-E", "UTF8", "--no-sync"], owner), capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        port = free_port()
        # No fsync (a test cluster), sockets only on loopback TCP and in the data folder, not /var/run/postgresql.
        server = [_postgres_bin("postgres"), "-D", str(data_dir / "pgdata"), "-h", "127.0.0.1", "-p", str(port)]
        server += ["-k", str(data_dir), "-F", "-c", "max_connections=200"]
        super().__init__("postgres", _as_owner(server, owner), port, log_dir)
        self._create_database()

    def _create_database(self, timeout: float = 30.0) -> None:
        import psycopg2

        deadline = time.monotonic() + timeout
        while True:  # the port opens a moment before the server accepts sessions
            try:
                connection = psycopg2.connect(host="127.0.0.1", port=self.port, user=self.USER, dbname="postgres")
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        connection.autocommit = True  # CREATE DATABASE runs outside a transaction
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE {self.DATABASE}")
        finally:
            connection.close()

    @property
    def sqlalchemy_url(self) -> str:
        return f"postgresql+psycopg2://{self.USER}@127.0.0.1:{self.port}/{self.DATABASE}"

    def stop(self) -> None:
        """A fast shutdown (SIGINT): SIGTERM's smart shutdown would wait for every client to disconnect."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
        super().stop()


class Redis(Service):
    """redis-server on loopback, in memory only (no RDB snapshots, no append-only file)."""

    def __init__(self, log_dir: Path):
        port = free_port()
        argv = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server not found: run `make system` (Debian's redis-server)")
        super().__init__("redis", [*argv, "--protected-mode", "yes"], port, log_dir)

    @property
    def broker_url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@dataclass
class Worker:
    """One Celery worker: its own Airflow home and temporary folder under ``root``, and its process."""

    name: str
    root: Path
    component: AirflowComponent | None = None
    starts: int = 0

    @property
    def home(self) -> Path:
        return self.root / "airflow-home"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"


@dataclass
class CeleryStack(Stack):
    """:class:`Stack` on Postgres, Redis and the CeleryExecutor, with two workers that share no local disk."""

    postgres: Postgres | None = None
    redis: Redis | None = None
    workers: list[Worker] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)
    concurrent_setup: bool = True

    def stop(self) -> None:
        """Airflow's processes first, then the servers they use (Postgres would otherwise shut down under them)."""
        backends = [s for s in self.services if s in (self.postgres, self.redis)]
        self.services = [s for s in self.services if s not in backends]
        super().stop()
        for backend in backends:
            backend.stop()
        self.services += backends

    def _start_backends(self) -> None:
        self.postgres = self._add(Postgres(self.root / "postgres", self.logs))
        self.redis = self._add(Redis(self.logs))
        # What every component must agree on, as a deployment sets it once for all: the key connections are
        # encrypted with in the database, and the secrets that sign the API's and the task processes' tokens.
        self.secrets = {
            "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(64),
        }

    def airflow_env(self) -> dict[str, str]:
        assert self.postgres and self.redis
        return {
            **super().airflow_env(),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.postgres.sqlalchemy_url,
            "AIRFLOW__CELERY__BROKER_URL": self.redis.broker_url,
            # The driver must be named: plain db+postgresql:// makes SQLAlchemy look for psycopg 3.
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{self.postgres.sqlalchemy_url}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
            "AIRFLOW__CORE__PARALLELISM": str(WORKER_CONCURRENCY * len(WORKERS)),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{__name__}.worker_hostname",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
            # Every run's artifacts and the nightly ledger on S3: workers read what other workers wrote. Workers
            # parse the DAG files themselves, so every variable a DAG reads is set for them too.
            "AIRFLOW__AIRFLOW_INGEST__WORKSPACE": WORKSPACE,
            "AIRFLOW_INGEST_NIGHTLY_STATE": STATE,
            **self.secrets,
            **self.extra_env,
        }

    def _start_workers(self, timeout: float) -> None:
        assert self.s3
        self.s3.seed(SHARED_BUCKET, [])
        started = [self.start_worker(Worker(name, self.root / name), wait=False) for name in WORKERS]
        for worker in started:  # both boot at once
            self.wait_worker(worker, timeout)

    def start_worker(self, worker: Worker, timeout: float = 120.0, wait: bool = True) -> Worker:
        """Start (or restart) ``worker``; with ``wait``, return once Celery reports it ready to take tasks."""
        worker.home.mkdir(parents=True, exist_ok=True)
        worker.tmp.mkdir(parents=True, exist_ok=True)
        env = self.home.env(**self.airflow_env())
        env.update(AIRFLOW_HOME=str(worker.home), TMPDIR=str(worker.tmp), **{WORKER_NAME_VARIABLE: worker.name})
        # The pid file goes beside the home, not in it: the home holds nothing but task logs.
        args = ["celery", "worker", "--skip-serve-logs", "--celery-hostname", f"{worker.name}@%h"]
        args += ["--pid", str(worker.root / "worker.pid")]
        worker.starts += 1
        name = worker.name if worker.starts == 1 else f"{worker.name}-start-{worker.starts}"
        worker.component = self._add(AirflowComponent(name, args, self.logs, env))
        if worker not in self.workers:
            self.workers.append(worker)
        if wait:
            self.wait_worker(worker, timeout)
        return worker

    def wait_worker(self, worker: Worker, timeout: float) -> None:
        assert worker.component is not None
        deadline = time.monotonic() + timeout
        while b" ready." not in worker.component.log_path.read_bytes():
            self._check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{worker.name} was not ready within {timeout:g} s; see {worker.component.log_path}")
            time.sleep(0.5)

    def kill_worker(self, worker: Worker) -> list[int]:
        """SIGKILL the worker and every process under it, its task processes included (each runs in a process
        group of its own, so killing the worker's group alone would leave them running): a lost machine."""
        assert worker.component is not None
        found = sorted(process_tree([worker.component.process.pid]))
        for pid in found:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        worker.component.process.wait(30)
        worker.component.stop()  # closes its log
        self.services.remove(worker.component)
        worker.component = None
        return found

    def describe(self) -> str:
        assert self.postgres and self.redis
        lines = [
            f"  executor  CeleryExecutor; Postgres {self.postgres.sqlalchemy_url} (metadata, results),",
            f"            Redis {self.redis.broker_url} (broker)",
            *(f"  {w.name}  home {w.home}, tmp {w.tmp}" for w in self.workers),
            f"  workspace {WORKSPACE}, nightly state {STATE} (on moto)",
        ]
        return "\n".join(lines) + "\n"
