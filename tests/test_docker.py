"""docker/docker-compose.yaml is valid compose; no engine runs here, so only the file is checked."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.harness import REPO


def test_compose_file_is_valid() -> None:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose is not installed (Debian package docker-compose); `make test` installs it as root")
    result = subprocess.run(
        [tool, "-f", str(REPO / "docker" / "docker-compose.yaml"), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    services = subprocess.run(
        [tool, "-f", str(REPO / "docker" / "docker-compose.yaml"), "config", "--services"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    assert set(services) >= {
        "postgres",
        "redis",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-worker",
        "airflow-init",
    }


def test_the_demo_overlay_adds_emulators_fakes_and_their_connections() -> None:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose is not installed (Debian package docker-compose); `make test` installs it as root")
    base, demo = REPO / "docker" / "docker-compose.yaml", REPO / "docker" / "docker-compose.demo.yaml"
    files = ["-f", str(base), "-f", str(demo)]
    result = subprocess.run([tool, *files, "config"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    import yaml

    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert set(services) >= {"moto", "gcs-emulator", "azurite", "fake-darwin", "fake-encord", "fake-redbrick"}
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker"):
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"  # the base file's settings survive the merge
        assert "http://fake-darwin:8765" in env["AIRFLOW_CONN_DARWIN_DEFAULT"]
        assert "http://moto:5000" in env["AIRFLOW_CONN_AWS_DEFAULT"]
