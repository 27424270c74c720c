"""The real Airflow UI on this repository's ``dags/``, wired to moto S3 and the fake platforms: ``make up``.

``make up`` (``python -m tests.stack up``) starts, on 127.0.0.1 only:

- moto server (S3), seeded with a small ``demo-bucket``; the fake V7 Darwin, the fake Encord, the fake RedBrick;
  the real Label Studio server (``tests/labelstudio_server.py``) with a project reading the bucket;
- an SQLite Airflow home in ``.up/airflow-home`` whose connections ``aws_default``, ``darwin_default``,
  ``encord_default``, ``redbrick_default`` and ``labelstudio_default`` (stored in the metadata database, so they
  show and can be edited under Admin -> Connections) point at them;
- Airflow's four components as separate processes (api-server, scheduler, dag-processor, triggerer), with the
  LocalExecutor and the simple auth manager, the same shape as a real deployment rather than ``airflow standalone``
  (whose log servers bind every interface).

It prints the URL and the admin login and returns; everything keeps running in its own process group, recorded
in ``.up/pids.json``. ``make down`` (``python -m tests.stack down``) stops every recorded process and what it
spawned (task processes included). The UI test (``tests/ui/``) starts the same :class:`Stack` on free ports.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from tests.demo import demo_objects
from tests.fakes.encord import DATASET, FOLDER, INTEGRATION, FakeEncord
from tests.fakes.redbrick import FakeRedBrick
from tests.harness import BIN, REPO, AirflowHome, FakeDarwin, MotoS3, Service, free_port
from tests.labelstudio_server import PASSWORD as LS_PASSWORD
from tests.labelstudio_server import USERNAME as LS_USERNAME
from tests.labelstudio_server import LabelStudio

UP_DIR = REPO / ".up"
PIDS_FILE = "pids.json"
BUCKET = "demo-bucket"
DEFAULT_PORT = 8080
USER = "admin"
FORM_DAG = "ingest_manual"

AIRFLOW_COMPONENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("scheduler", ("scheduler", "--skip-serve-logs")),
    ("dag-processor", ("dag-processor",)),
    ("triggerer", ("triggerer", "--skip-serve-logs")),
)
"""The components besides the api-server. ``--skip-serve-logs``: their log servers would bind every interface,
and the api-server reads the local task log files itself."""


def stack_objects() -> list[tuple[str, int]]:
    """A small bucket shaped like ``make demo``'s: one site, two days, two cameras, two DICOM studies."""
    return demo_objects(sites=("berlin",), days=("2026-11-01", "2026-11-02"), cams=2, frames=20, clips=2,
                        studies=2, slices=6)  # fmt: skip


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


class AirflowComponent(Service):
    """One Airflow component (``airflow <command>``) in its own process group.

    Only the api-server listens; the others count as started once they have not exited at once, and the stack
    then waits for Airflow's own health report, which is the real sign that they work.
    """

    def __init__(self, name: str, args: Iterable[str], log_dir: Path, env: Mapping[str, str], port: int = 0):
        super().__init__(name, [str(BIN / "airflow"), *args], port, log_dir, env)

    def _wait_listening(self, timeout: float = 120.0) -> None:
        if self.port:
            super()._wait_listening(timeout)
            return
        time.sleep(0.5)
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited at once; see {self.log_path}:\n{self.log_path.read_text()[-2000:]}")


@contextlib.contextmanager
def one_stack_at_a_time() -> Iterator[None]:
    """Hold the machine's one Airflow-stack slot while a test module uses its stack.

    A stack is five to nine busy processes; the browser tests, the scheduler test and the Celery test land on both
    xdist workers, and two or three stacks at once on two cores stretch every start-up and kill-recovery wait the
    tests measure. The other xdist worker waits here while the rest of the suite goes on.
    """
    path = REPO / ".test-output" / "airflow-stack.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@dataclass
class Stack:
    """Moto S3, the three fake platforms and Airflow's four components, started together and stopped together."""

    root: Path
    port: int
    home: AirflowHome
    dags_folder: Path = REPO / "dags"
    extra_env: dict[str, str] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)
    s3: MotoS3 | None = None
    darwin: FakeDarwin | None = None
    encord: FakeEncord | None = None
    redbrick: FakeRedBrick | None = None
    labelstudio: LabelStudio | None = None
    with_labelstudio: bool = False
    """Whether to start the real Label Studio server too (``make up`` does; the UI tests need not)."""
    labelstudio_project: int = 0
    concurrent_setup: bool = False
    """Whether the metadata database takes several writers at once (not SQLite), so setup steps can overlap."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def password(self) -> str:
        """The admin password the simple auth manager generated at the api-server's first start."""
        path = self.home.path / "simple_auth_manager_passwords.json.generated"
        return str(json.loads(path.read_text())[USER])

    def airflow_env(self) -> dict[str, str]:
        """What every Airflow process of the stack runs with (on top of :meth:`AirflowHome.env`).

        Tasks reach the Execution API through ``[core] execution_api_server_url``, which otherwise assumes port
        8080; ``[api] host`` also silences the simple auth manager's "looks like production" warning.
        """
        return {
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            # 32 idle LocalExecutor workers would take 1.6 GB; 4 run the mapped register tasks side by side.
            "AIRFLOW__CORE__PARALLELISM": "4",
            # New DAG files under dags/ show up within 30 s instead of 5 minutes.
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            # As in a real deployment, new DAGs start paused: nightly_sync would otherwise run at once and fill the
            # fake V7 dataset before anyone triggers anything. The stack unpauses ingest_manual only.
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            # The connection form's "Test" button calls the hooks' test_connection() against the fakes.
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            **self.extra_env,
        }

    @classmethod
    def start(
        cls,
        root: Path,
        *,
        port: int | None = None,
        objects: Iterable[tuple[str, int]] | None = None,
        dags_folder: Path = REPO / "dags",
        env: Mapping[str, str] | None = None,
        timeout: float = 180.0,
        labelstudio: bool = False,
    ) -> Stack:
        """Start everything under ``root`` (wiped first) and return once the UI answers and the DAGs are parsed.

        On any failure what was started is stopped again, and the error names the log to read.
        """
        port = port or free_port()
        if not port_is_free(port):
            raise RuntimeError(f"port {port} on 127.0.0.1 is in use; stop what holds it or pick another port")
        shutil.rmtree(root, ignore_errors=True)
        (root / "logs").mkdir(parents=True)
        home = AirflowHome(root / "airflow-home")
        stack = cls(root=root, port=port, home=home, dags_folder=dags_folder, extra_env=dict(env or {}))
        stack.with_labelstudio = labelstudio
        try:
            stack._start(list(objects if objects is not None else stack_objects()), timeout)
        except BaseException:
            stack.stop()
            raise
        return stack

    def _start(self, objects: list[tuple[str, int]], timeout: float) -> None:
        self._start_backends()
        env = self.home.env(**self.airflow_env())
        self.home.path.mkdir(parents=True, exist_ok=True)
        # The migration (about 6 s) runs while the servers start and the bucket is seeded.
        migrate_log = (self.logs / "airflow-db-migrate.log").open("wb")
        migrate = subprocess.Popen(
            [str(BIN / "airflow"), "db", "migrate"], cwd=REPO, env=env, stdout=migrate_log, stderr=subprocess.STDOUT
        )
        try:
            self.s3 = self._add(MotoS3(self.logs))
            self.darwin = self._add(FakeDarwin(self.logs))
            self.encord = self._add(FakeEncord(self.logs))
            self.redbrick = self._add(FakeRedBrick(self.logs))
            self.s3.seed(BUCKET, objects)
            if self.with_labelstudio:
                self.labelstudio = self._add(LabelStudio(self.root / "labelstudio-data", self.logs))
                self.labelstudio_project = self.labelstudio.project("airflow-ingest demo")
                self.labelstudio.s3_storage(self.labelstudio_project, BUCKET, self.s3.url)
            code = migrate.wait(timeout)
        finally:
            if migrate.poll() is None:
                migrate.kill()
                migrate.wait()
            migrate_log.close()
        if code != 0:
            raise RuntimeError(f"airflow db migrate failed (exit {code}); see {self.logs / 'airflow-db-migrate.log'}")
        # Two CLI processes of ~10 s each. On SQLite they run one after the other, before anything else writes; a
        # server database takes them side by side, while the components start.
        with ThreadPoolExecutor(2 if self.concurrent_setup else 1) as pool:
            imports = [pool.submit(self._import_connections, env), pool.submit(self._import_pools, env)]
            if not self.concurrent_setup:
                wait(imports)
            self._add(AirflowComponent("api-server", ["api-server", "--host", "127.0.0.1", "--port", str(self.port)],
                                       self.logs, env, port=self.port))  # fmt: skip
            for name, args in AIRFLOW_COMPONENTS:
                self._add(AirflowComponent(name, args, self.logs, env))
            self._start_workers(timeout)
            for done in imports:
                done.result()
        self.wait_healthy(timeout)
        self.wait_dag(FORM_DAG, timeout)
        answer = self.session().patch(f"{self.url}/api/v2/dags/{FORM_DAG}", json={"is_paused": False}, timeout=30)
        answer.raise_for_status()

    def _start_backends(self) -> None:
        """Servers Airflow itself needs before its database is migrated: none here (SQLite in the home)."""

    def _start_workers(self, timeout: float) -> None:
        """Processes that run tasks besides the scheduler: none here (the LocalExecutor runs them)."""

    def describe(self) -> str:
        """More lines for ``make up``'s summary: what this topology adds."""
        return ""

    def _add(self, service: Any) -> Any:
        self.services.append(service)
        return service

    def connections(self) -> dict[str, dict[str, Any]]:
        """The four default connections, pointing at this stack's servers (the fakes' keys are throwaway)."""
        assert self.s3 and self.darwin and self.encord and self.redbrick
        conns = [self.s3.conn(), self.darwin.conn(), self.encord.conn(), self.redbrick.conn()]
        ids = ["aws_default", "darwin_default", "encord_default", "redbrick_default"]
        if self.labelstudio is not None:
            conns.append(self.labelstudio.conn(project_id=self.labelstudio_project))
            ids.append("labelstudio_default")
        found = {conn_id: json.loads(conn) for conn_id, conn in zip(ids, conns, strict=True)}
        # The UI's "Test" button checks AWS connections with STS, which ignores the global endpoint_url.
        found["aws_default"]["extra"]["service_config"] = {"sts": {"endpoint_url": self.s3.url}}
        return found

    def _import_connections(self, env: Mapping[str, str]) -> None:
        """Store the connections in the metadata database, where the UI lists them (env connections it does not).

        The file holds the fakes' keys, so it is private to the user and deleted right after the import.
        """
        path = self.root / "connections.json"
        conns = {cid: {**c, "extra": json.dumps(c.get("extra", {}))} for cid, c in self.connections().items()}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(conns, handle)
        try:
            result = subprocess.run(
                [str(BIN / "airflow"), "connections", "import", "--overwrite", str(path)],
                cwd=REPO, env=dict(env), capture_output=True, text=True, timeout=120,
            )  # fmt: skip
        finally:
            path.unlink(missing_ok=True)
        if result.returncode != 0 or result.stdout.count("Imported connection") != len(conns):
            raise RuntimeError(f"airflow connections import failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")

    def _import_pools(self, env: Mapping[str, str]) -> None:
        """The example DAGs' register tasks run in one pool per platform account (``dags/pools.json``)."""
        result = subprocess.run(
            [str(BIN / "airflow"), "pools", "import", str(REPO / "dags" / "pools.json")],
            cwd=REPO, env=dict(env), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"airflow pools import failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")

    def wait_healthy(self, timeout: float) -> None:
        """Until Airflow reports the metadatabase, scheduler, triggerer and dag-processor healthy."""
        deadline = time.monotonic() + timeout
        health: Any = None
        while time.monotonic() < deadline:
            self._check_alive()
            with contextlib.suppress(requests.RequestException, ValueError):
                health = requests.get(f"{self.url}/api/v2/monitor/health", timeout=10).json()
                parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
                if all((health.get(p) or {}).get("status") == "healthy" for p in parts):
                    return
            time.sleep(1)
        raise TimeoutError(f"Airflow was not healthy within {timeout:g} s (last report: {health}); see {self.logs}")

    def _check_alive(self) -> None:
        for service in self.services:
            if service.process.poll() is not None:
                raise RuntimeError(
                    f"{service.name} exited (code {service.process.returncode}); see {service.log_path}:\n"
                    f"{service.log_path.read_text(errors='replace')[-2000:]}"
                )

    def session(self) -> requests.Session:
        """A REST API v2 session logged in as the admin (the same JWT the UI gets)."""
        answer = requests.post(f"{self.url}/auth/token", json={"username": USER, "password": self.password}, timeout=30)
        answer.raise_for_status()
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        return session

    def wait_dag(self, dag_id: str, timeout: float) -> None:
        """Until the dag-processor has parsed ``dag_id`` (the UI shows nothing for it before)."""
        deadline = time.monotonic() + timeout
        session = self.session()
        while time.monotonic() < deadline:
            self._check_alive()
            if session.get(f"{self.url}/api/v2/dags/{dag_id}", timeout=30).status_code == 200:
                return
            time.sleep(1)
        errors = session.get(f"{self.url}/api/v2/importErrors", timeout=30).json()
        raise TimeoutError(f"{dag_id} was not parsed within {timeout:g} s; import errors: {errors}")

    def run_url(self, dag_id: str, run_id: str) -> str:
        return f"{self.url}/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}"

    def trigger(self, dag_id: str, conf: Mapping[str, Any]) -> str:
        """Trigger ``dag_id`` through the REST API as a user would; the new run's id."""
        url = f"{self.url}/api/v2/dags/{dag_id}/dagRuns"
        answer = self.session().post(url, json={"logical_date": None, "conf": dict(conf)}, timeout=30)
        answer.raise_for_status()
        return str(answer.json()["dag_run_id"])

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 120.0) -> dict[str, Any]:
        """The run as the REST API reports it once it has finished, or as it is at ``timeout``."""
        session = self.session()
        deadline = time.monotonic() + timeout
        while True:
            run = dict(session.get(self.run_url(dag_id, run_id), timeout=30).json())
            if run["state"] in ("success", "failed") or time.monotonic() > deadline:
                return run
            time.sleep(1)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        answer = self.session().get(f"{self.run_url(dag_id, run_id)}/taskInstances", timeout=30)
        answer.raise_for_status()
        return list(answer.json()["task_instances"])

    def unfinished_tasks(self, dag_id: str, run_id: str) -> list[str]:
        """``task[map_index]=state`` of every task that neither succeeded nor was skipped: what a failure shows."""
        return [
            f"{t['task_id']}[{t['map_index']}]={t['state']}"
            for t in self.task_instances(dag_id, run_id)
            if t["state"] not in ("success", "skipped")
        ]

    def record(self) -> dict[str, Any]:
        """What ``make down`` needs: each process group's leader, with its start time against pid reuse."""
        return {
            "url": self.url,
            "home": str(self.home.path),
            "processes": [
                {"name": s.name, "pid": s.process.pid, "started": _start_time(s.process.pid), "log": str(s.log_path)}
                for s in self.services
            ],
        }

    def stop(self) -> None:
        """Stop every process the stack started, and their children, then reap them."""
        stop_processes([(s.process.pid, None) for s in self.services if s.process.poll() is None])
        for service in self.services:
            service.stop()


# Stopping by process group catches the uvicorn and executor workers; walking the process tree as well catches
# any task process that started a session of its own.


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields from the state on (the name may hold spaces)


def _start_time(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[19]) if fields else None


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def process_tree(pids: Iterable[int]) -> set[int]:
    """The given pids, every process in their process groups, and all their descendants."""
    table: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            table[int(entry.name)] = (int(fields[1]), int(fields[2]))  # ppid, pgid
    found = {pid for pid in pids if pid in table}
    found |= {pid for pid, (_, pgid) in table.items() if pgid in found}
    while True:
        more = {pid for pid, (ppid, _) in table.items() if ppid in found} - found
        if not more:
            return found
        found |= more


def _signal(pids: Iterable[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def stop_processes(leaders: Iterable[tuple[int, int | None]], timeout: float = 20.0) -> list[int]:
    """SIGTERM each ``(pid, start time)`` leader's group and descendants, SIGKILL what is left after ``timeout``.

    A leader whose start time no longer matches is a recycled pid, not ours, and is left alone. Returns the pids
    that had to be killed.
    """
    ours = [pid for pid, started in leaders if _alive(pid) and (started is None or _start_time(pid) == started)]
    targets = process_tree(ours)
    for pid in ours:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
    _signal(targets, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p) for p in targets):
        time.sleep(0.2)
    left = sorted(process_tree(p for p in targets if _alive(p)))
    _signal(left, signal.SIGKILL)
    return left


def up(port: int, root: Path = UP_DIR, executor: str = "local") -> int:
    """``make up``: start the stack in the background, record it, print how to reach it.

    ``executor="celery"`` starts the production-shaped topology of :mod:`tests.celery_stack` instead.
    """
    pids = root / PIDS_FILE
    if pids.exists():
        running = json.loads(pids.read_text())
        if any(_alive(p["pid"]) and _start_time(p["pid"]) == p["started"] for p in running["processes"]):
            print(f"The stack is already up at {running['url']}; `make down` stops it.", file=sys.stderr)
            return 1
    if not port_is_free(port):
        print(f"Port {port} on 127.0.0.1 is in use: stop what holds it, or run `make up PORT=<another port>`.",
              file=sys.stderr)  # fmt: skip
        return 1
    stack_class = Stack
    if executor == "celery":
        from tests.celery_stack import CeleryStack

        stack_class = CeleryStack
        print("Starting Postgres, Redis and two Celery workers too (CeleryExecutor) ...")
    print(f"Starting moto S3, the fake V7 Darwin, Encord, RedBrick, Label Studio and Airflow in {root} (~40 s) ...")
    clock = time.monotonic()
    try:
        stack = stack_class.start(root, port=port, labelstudio=True)
    except Exception as error:
        print(f"make up failed: {error}", file=sys.stderr)
        return 1
    pids.write_text(json.dumps(stack.record(), indent=2))
    env = stack.home.env(**stack.airflow_env())
    # Private to the user: with EXECUTOR=celery it holds the deployment's fernet key and JWT secret.
    fd = os.open(root / "env.sh", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(
            "# source me to run `airflow ...` commands against the running stack\n"
            + "".join(f"export {k}='{env[k]}'\n" for k in sorted(env) if k.startswith("AIRFLOW") and "CONN_" not in k)
            + f"export PATH='{BIN}':\"$PATH\"\n"
        )
    assert stack.s3 and stack.darwin and stack.encord and stack.redbrick
    print(
        f"""
Airflow is up in {time.monotonic() - clock:.0f} s:  {stack.url}
  login     {USER} / {stack.password}
            (from {stack.home.path / "simple_auth_manager_passwords.json.generated"})
  DAGs      {stack.dags_folder}  ({FORM_DAG} has the Trigger form; the other DAGs start paused)
  S3        moto {stack.s3.url}, bucket s3://{BUCKET}/ ({len(stack_objects())} objects)   [aws_default]
  V7 Darwin fake {stack.darwin.url}, dataset demo-dataset, storage demo-storage    [darwin_default]
  Encord    fake {stack.encord.url}, folder {FOLDER} or dataset {DATASET},
            integration {INTEGRATION}    [encord_default]
  RedBrick  fake {stack.redbrick.url}, project {FakeRedBrick.PROJECT_ID}    [redbrick_default]
  Label Studio  the real server {stack.labelstudio.url if stack.labelstudio else "(not started)"}, project \
{stack.labelstudio_project} reading s3://{BUCKET}/    [labelstudio_default]
            login {LS_USERNAME} / {LS_PASSWORD}
  what the fakes hold: GET <fake>/_fake/state
{stack.describe()}  logs      {stack.logs}    pids {pids}
  CLI       source {root / "env.sh"} && airflow dags list
Stop everything with `make down`."""
    )
    return 0


def down(root: Path = UP_DIR) -> int:
    """``make down``: stop every process ``make up`` recorded, and what they spawned."""
    pids = root / PIDS_FILE
    if not pids.exists():
        print("Nothing to stop: no stack recorded by `make up`.")
        return 0
    record = json.loads(pids.read_text())
    killed = stop_processes([(p["pid"], p["started"]) for p in record["processes"]])
    pids.unlink()
    names = ", ".join(p["name"] for p in record["processes"])
    print(f"Stopped {names}." + (f" {len(killed)} process(es) needed SIGKILL." if killed else ""))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.stack", description=(__doc__ or "").splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("up", help="start the stack in the background and print the URL and login")
    start.add_argument("--port", type=int, default=DEFAULT_PORT, help="the UI's port on 127.0.0.1 (default 8080)")
    topologies = "local: LocalExecutor on SQLite (default); celery: Postgres, Redis, two Celery workers"
    start.add_argument("--executor", choices=("local", "celery"), default="local", help=topologies)
    sub.add_parser("down", help="stop what `up` started")
    args = parser.parse_args(argv)
    return up(args.port, executor=args.executor) if args.command == "up" else down()


if __name__ == "__main__":
    sys.exit(main())
