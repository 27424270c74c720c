"""The ingest_manual form into the real Label Studio server: `airflow dags test` on SQLite, the operator for real."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import AirflowHome, MotoS3
from tests.integration.platforms.labelstudio.conftest import BUCKET, Project, put
from tests.labelstudio_server import LabelStudio


@pytest.fixture(scope="module")
def home(labelstudio: LabelStudio, s3: MotoS3, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowHome]:
    connections = {"aws_default": s3.conn(), "labelstudio_default": labelstudio.conn()}
    made = AirflowHome(Path(tmp_path_factory.mktemp("ls-airflow-home")), connections)
    made.migrate()
    yield made
    made.close()


def test_ingest_manual_registers_into_the_project_and_a_second_run_creates_nothing(
    home: AirflowHome, project: Project, s3: MotoS3
) -> None:
    put(s3, [f"dag/cam{c}/{n:03d}.jpg" for c in range(3) for n in range(30)] + ["dag/cam0/clip.mp4"])
    conf = {
        "source": f"s3://{BUCKET}/dag/",
        "platform": "labelstudio",
        "labelstudio_project_id": project.id,
        "max_entries": 40,
    }
    first = home.dags_test("ingest_manual", conf)
    totals = first.report()["totals"]
    assert (totals["registered"], totals["blocked"]) == (90, 1), first.output[-3000:]
    assert first.state == "failed"  # fail_on=any: the image-only labeling config shows no video, reported as blocked
    assert first.task("labelstudio.register", 0) == "success"
    assert first.task("labelstudio.register", 0) == "success"
    assert len(project.tasks()) == 90

    second = home.dags_test("ingest_manual", {**conf, "fail_on": "never"})  # no ledger: the markers decide
    assert second.state == "success"
    assert second.report()["totals"]["duplicate"] == 90
    assert len(project.tasks()) == 90
