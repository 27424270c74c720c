"""Shared fixtures: an isolated Airflow home, moto server and the fake V7 Darwin on free loopback ports."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.encord import FakeEncord
from tests.fakes.redbrick import FakeRedBrick
from tests.harness import REPO, AirflowHome, Azurite, FakeDarwin, GcsEmulator, MotoS3
from tests.labelstudio_server import LabelStudio

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
"""``gw0``, ``gw1``... when ``make test`` runs the suite on several workers (pytest-xdist), else empty."""
OUT = REPO / ".test-output" / WORKER if WORKER else REPO / ".test-output"

# Before anything imports Airflow: never touch ~/airflow, never load examples, fail fast without AWS creds.
os.environ["AIRFLOW_HOME"] = str(OUT / "airflow-home-inprocess")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


@pytest.fixture(scope="session")
def s3() -> Iterator[MotoS3]:
    server = MotoS3(OUT / "logs")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def gcs() -> Iterator[GcsEmulator]:
    server = GcsEmulator(OUT / "logs")
    os.environ["STORAGE_EMULATOR_HOST"] = server.url
    yield server
    os.environ.pop("STORAGE_EMULATOR_HOST", None)
    server.stop()


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    if not Azurite.BIN.exists():
        pytest.fail(f"Azurite is not installed at {Azurite.BIN}: run `make test` (it runs npm ci in tests/azurite)")
    server = Azurite(OUT / "logs")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def darwin_server() -> Iterator[FakeDarwin]:
    server = FakeDarwin(OUT / "logs")
    yield server
    server.stop()


@pytest.fixture
def darwin(darwin_server: FakeDarwin) -> FakeDarwin:
    """The fake V7 Darwin, emptied and with no faults, rate limit or block rules."""
    darwin_server.reset()
    return darwin_server


@pytest.fixture(scope="session")
def encord_server() -> Iterator[FakeEncord]:
    server = FakeEncord(OUT / "logs")
    yield server
    server.stop()


@pytest.fixture
def encord(encord_server: FakeEncord) -> FakeEncord:
    """The fake Encord, emptied, with no faults, scripts or unit errors."""
    encord_server.reset()
    return encord_server


@pytest.fixture(scope="session")
def redbrick_server() -> Iterator[FakeRedBrick]:
    server = FakeRedBrick(OUT / "logs")
    yield server
    server.stop()


@pytest.fixture
def redbrick(redbrick_server: FakeRedBrick) -> FakeRedBrick:
    """The fake RedBrick, emptied, with no faults, rate limit or bad-item rules."""
    redbrick_server.reset()
    return redbrick_server


@pytest.fixture(scope="session")
def labelstudio() -> Iterator[LabelStudio]:
    """The real Label Studio server (its own venv, ``make sdks``), one per xdist worker, from a migrated template."""
    server = LabelStudio(OUT / "labelstudio-data", OUT / "logs")
    yield server
    server.stop()


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch, s3: MotoS3, darwin_server: FakeDarwin) -> None:
    """``aws_default`` and ``darwin_default`` for hooks called in this process, as env connections."""
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", s3.conn())
    monkeypatch.setenv("AIRFLOW_CONN_DARWIN_DEFAULT", darwin_server.conn())


@pytest.fixture(scope="session")
def airflow_home(
    s3: MotoS3, darwin_server: FakeDarwin, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AirflowHome]:
    """A migrated SQLite Airflow home whose DAGs folder is ``dags/`` and whose connections point at the fakes."""
    home = AirflowHome(
        Path(tmp_path_factory.mktemp("airflow-home")),
        {"aws_default": s3.conn(), "darwin_default": darwin_server.conn()},
    )
    home.migrate()
    yield home
    home.close()
