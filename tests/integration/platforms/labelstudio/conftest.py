"""A Label Studio project per test, with an S3 source storage on moto for the bucket the tests seed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.items import Layout
from airflow_ingest.core.plan import make_plan, path_opener, read_batch_index
from airflow_ingest.core.urls import parse_source
from airflow_ingest.platforms.labelstudio.documents import LabelStudioManifests
from airflow_ingest.platforms.labelstudio.hook import LabelStudioHook
from airflow_ingest.platforms.labelstudio.target import LabelStudioTarget
from airflow_ingest.storage.listing import list_objects
from tests.harness import MotoS3
from tests.labelstudio_server import IMAGE_CONFIG, LabelStudio

BUCKET = "ls-media"


@dataclass
class Project:
    server: LabelStudio
    id: int

    def tasks(self) -> list[dict[str, Any]]:
        return self.server.tasks(self.id)


@pytest.fixture(scope="session")
def ls_bucket(s3: MotoS3) -> str:
    s3.client().create_bucket(Bucket=BUCKET)
    return BUCKET


def make_project(server: LabelStudio, s3: MotoS3, config: str = IMAGE_CONFIG) -> Project:
    project = Project(server, server.project(label_config=config))
    server.s3_storage(project.id, BUCKET, s3.url)
    return project


@pytest.fixture
def project(labelstudio: LabelStudio, s3: MotoS3, ls_bucket: str) -> Project:
    return make_project(labelstudio, s3)


@pytest.fixture
def hook(labelstudio: LabelStudio, s3: MotoS3, monkeypatch: pytest.MonkeyPatch) -> Iterator[LabelStudioHook]:
    """A hook on the server (fast retries), and ``aws_default`` on moto for the listings."""
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", s3.conn())
    monkeypatch.setenv("AIRFLOW_CONN_LABELSTUDIO_DEFAULT", labelstudio.conn(wait_initial=0.05, wait_max=0.2))
    yield LabelStudioHook()


def put(s3: MotoS3, keys: list[str]) -> None:
    client = s3.client()
    for key in keys:
        client.put_object(Bucket=BUCKET, Key=key, Body=key.encode("utf-8"))


@dataclass
class Planned:
    run: Path
    batches: list[tuple[str, list[str]]]
    """Each batch's manifest text and item ids."""


def plan(
    s3: MotoS3,
    tmp_path: Path,
    prefix: str,
    project_id: int,
    layout: Layout = Layout.FILE,
    per_batch: int = 1000,
    **target: Any,
) -> Planned:
    """List ``s3://ls-media/{prefix}`` from moto and plan it for Label Studio: the manifests and item ids."""
    source = parse_source(f"s3://{BUCKET}/{prefix}")
    objects = list_objects(source, "aws_default")
    builder = LabelStudioManifests(LabelStudioTarget.model_validate(target))
    made = make_plan(
        objects, builder, Limits(max_entries=per_batch), path_opener(tmp_path), layout=layout, prefix=prefix
    )
    batches = []
    for info in made.batches:
        ids = [str(line["item"]) for line in read_batch_index(tmp_path, info)]
        batches.append(((tmp_path / info.path).read_text(), ids))
    return Planned(tmp_path, batches)


def data_urls(tasks: list[dict[str, Any]], key: str = "image") -> list[str]:
    return sorted(json.dumps(t["data"][key]) if not isinstance(t["data"][key], str) else t["data"][key] for t in tasks)
