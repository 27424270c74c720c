"""`airflow-ingest sync --platform labelstudio` into the real server: the ledger and the markers both hold."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.harness import BIN, MotoS3
from tests.integration.platforms.labelstudio.conftest import BUCKET, Project, put
from tests.labelstudio_server import LabelStudio


def sync(server: LabelStudio, s3: MotoS3, project: Project, tmp: Path, state: str) -> dict[str, object]:
    env = {**os.environ, "AIRFLOW_CONN_AWS_DEFAULT": s3.conn(), "AIRFLOW_CONN_LS_CLI": server.conn()}
    argv = [str(BIN / "airflow-ingest"), "sync", f"s3://{BUCKET}/cli/", "--platform", "labelstudio",
            "--platform-conn-id", "ls_cli", "--project-id", str(project.id), "--max-entries", "15",
            "--state", str(tmp / state), "--runs", str(tmp / "runs")]  # fmt: skip
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_sync_registers_once_and_a_lost_ledger_still_creates_nothing_twice(
    labelstudio: LabelStudio, project: Project, s3: MotoS3, tmp_path: Path
) -> None:
    put(s3, [f"cli/{n:02d}.jpg" for n in range(40)] + ["cli/notes.txt"])
    first = sync(labelstudio, s3, project, tmp_path, "state")
    assert (first["registered"], first["skipped"], first["batches"]) == (40, 1, 3)
    assert sync(labelstudio, s3, project, tmp_path, "state")["batches"] == 0  # the ledger: nothing new

    again = sync(labelstudio, s3, project, tmp_path, "other-state")  # no ledger: the markers decide
    assert (again["registered"], again["duplicate"]) == (0, 40)
    assert len(project.tasks()) == 40
