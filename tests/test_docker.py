"""docker/docker-compose.yaml is valid compose; no engine runs here, so only the file is checked."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.harness import REPO


def test_compose_file_is_valid() -> None:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose is not installed (Debian package docker-compose); .ci/run installs it")
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
