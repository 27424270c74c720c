"""The real Label Studio server (``label-studio`` from PyPI) on loopback, for tests, the demo and the bench.

It runs from its own venv (``.sdk/labelstudio``, built by ``make sdks`` from
``tests/conformance/requirements/labelstudio.txt``): its Django stack clashes with Airflow's. Migrating a fresh
database takes about half a minute, so it is done once per venv into a template folder (a SQLite database with
one user, a legacy API token and the organisation's legacy tokens turned on), and each server starts from a copy
of the template in a few seconds. Every server has its own data folder and port, so xdist workers never share one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from tests.harness import REPO, Service, free_port

VENV = REPO / ".sdk" / "labelstudio"
BINARY = VENV / "bin" / "label-studio"
TEMPLATE = VENV / "template"

USERNAME = "airflow-ingest@example.com"
PASSWORD = "airflow-ingest-password"
TOKEN = "airflow-ingest-legacy-token-0123456789"

IMAGE_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <Choices name="choice" toName="image"><Choice value="keep"/><Choice value="drop"/></Choices>
</View>"""


def _env(data_dir: Path) -> dict[str, str]:
    """The server's environment: SQLite in ``data_dir``, no call to PyPI, loopback storage endpoints allowed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "VIRTUAL_ENV", "PYTHON"))}
    env.update(
        LABEL_STUDIO_BASE_DATA_DIR=str(data_dir),
        DJANGO_DB="sqlite",
        LATEST_VERSION_CHECK="false",
        # moto and the other emulators listen on 127.0.0.1, which Label Studio's SSRF guard bans by default
        USE_DEFAULT_BANNED_SUBNETS="false",
        SECRET_KEY="airflow-ingest-tests-not-a-secret",
        LOG_LEVEL="WARNING",
        PATH=f"{VENV / 'bin'}:{env.get('PATH', '')}",
    )
    return env


def template() -> Path:
    """The migrated template data folder, made once per venv (a file lock keeps xdist workers from racing)."""
    if not BINARY.exists():
        raise RuntimeError(f"Label Studio is not installed at {BINARY}: run `make sdks`")
    done = TEMPLATE / ".ready"
    if done.exists():
        return TEMPLATE
    with (VENV / "template.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            building = VENV / "template.building"
            shutil.rmtree(building, ignore_errors=True)
            argv = [str(BINARY), "init", "--no-browser", "--username", USERNAME, "--password", PASSWORD]
            argv += ["--user-token", TOKEN, "--enable-legacy-api-token"]
            subprocess.run(argv, env=_env(building), check=True, capture_output=True, timeout=600)
            shutil.rmtree(TEMPLATE, ignore_errors=True)
            building.rename(TEMPLATE)
            done.touch()
    return TEMPLATE


class LabelStudio(Service):
    """One server from a copy of the template, with helpers to make projects and storage connections."""

    def __init__(self, data_dir: Path, log_dir: Path) -> None:
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.copytree(template(), data_dir)
        self.data_dir = data_dir
        port = free_port()
        argv = [str(BINARY), "start", "--no-browser", "-p", str(port), "--internal-host", "127.0.0.1"]
        super().__init__("labelstudio", argv, port, log_dir, env=_env(data_dir))
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {TOKEN}"
        self._wait_healthy()

    def _wait_healthy(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/health", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Label Studio did not answer /health; see {self.log_path}")

    def api(self, method: str, path: str, timeout: float = 60, **kwargs: Any) -> Any:
        response = self.session.request(method, f"{self.url}{path}", timeout=timeout, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else None

    def personal_token(self) -> str:
        """A new personal access token (a JWT refresh token) of the test user."""
        return str(self.api("POST", "/api/token/")["token"])

    def project(self, title: str = "airflow-ingest tests", label_config: str = IMAGE_CONFIG) -> int:
        return int(self.api("POST", "/api/projects", json={"title": title, "label_config": label_config})["id"])

    def s3_storage(self, project: int, bucket: str, endpoint: str, **fields: Any) -> dict[str, Any]:
        """An S3 source storage on ``project`` (moto's throwaway keys) through which the server resolves s3:// URLs."""
        body = {
            "project": project,
            "title": f"s3://{bucket}",
            "bucket": bucket,
            "s3_endpoint": endpoint,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
            "region_name": "us-east-1",
            "presign": True,
            "use_blob_urls": True,
            **fields,
        }
        return dict(self.api("POST", "/api/storages/s3", json=body))

    def tasks(self, project: int) -> list[dict[str, Any]]:
        """Every task of ``project`` (id, data, meta), all pages."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            params = {
                "project": project,
                "page": page,
                "page_size": 1000,
                "include": "id,data,meta",
                "resolve_uri": "false",
            }
            response = self.session.get(f"{self.url}/api/tasks/", params=params, timeout=120)
            if response.status_code == 404:
                return found
            response.raise_for_status()
            tasks = response.json()["tasks"]
            found += tasks
            if len(tasks) < 1000:
                return found
            page += 1

    def conn(self, token: str = TOKEN, url: str | None = None, **extra: Any) -> str:
        """The Airflow connection (JSON form) of type ``labelstudio`` to this server."""
        import json

        return json.dumps({"conn_type": "labelstudio", "host": url or self.url, "password": token, "extra": extra})


if __name__ == "__main__":  # build the template ahead (``python -m tests.labelstudio_server``)
    print(template(), file=sys.stderr)
