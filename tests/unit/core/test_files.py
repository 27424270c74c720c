"""Outcome files and Encord job records are written whole, and a damaged one is named, not half-trusted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from airflow.sdk import ObjectStoragePath

from airflow_ingest.core.errors import IngestError
from airflow_ingest.core.files import local_path, write_text_whole
from airflow_ingest.core.outcomes import Outcome, OutcomeKind
from airflow_ingest.core.report import read_outcomes, write_outcomes
from airflow_ingest.platforms.encord.jobs import read_job_record


def test_a_write_cut_short_leaves_the_old_file_and_no_partial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "outcomes" / "batch-00001.json"
    write_outcomes(target, [Outcome("a", OutcomeKind.REGISTERED)])

    def killed(fd: int) -> None:
        raise OSError("the process died here")

    monkeypatch.setattr(os, "fsync", killed)
    with pytest.raises(OSError, match="died"):
        write_outcomes(target, [Outcome("b", OutcomeKind.BLOCKED, "bad")])
    assert read_outcomes(target) == {"a": Outcome("a", OutcomeKind.REGISTERED)}
    assert sorted(p.name for p in target.parent.iterdir()) == ["batch-00001.json"]


@pytest.mark.parametrize("make", [Path, lambda p: ObjectStoragePath(f"file://{p}")], ids=["pathlib", "objectstorage"])
def test_both_kinds_of_local_path_are_replaced_atomically(tmp_path: Path, make: object) -> None:
    path = make(tmp_path / "runs" / "x.json")  # type: ignore[operator]
    assert local_path(path) == tmp_path / "runs" / "x.json"
    write_text_whole(path, "[]")
    write_text_whole(path, '["new"]')
    assert (tmp_path / "runs" / "x.json").read_text() == '["new"]'
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["x.json"]


def test_a_remote_path_is_not_local() -> None:
    assert local_path(ObjectStoragePath("s3://bucket/runs/x.json", conn_id="aws_default")) is None


@pytest.mark.parametrize("text", ["", "[{", '[{"outcome": "registered"}]', '[{"item": "a", "outcome": "maybe"}]'])
def test_a_damaged_outcome_file_is_named_with_what_to_do(tmp_path: Path, text: str) -> None:
    path = tmp_path / "outcomes" / "batch-00007.json"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(IngestError, match=r"outcome file .*batch-00007.json cannot be read .*delete the file"):
        read_outcomes(path)


def test_a_damaged_job_record_is_named_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "jobs" / "batch-00002.json"
    path.parent.mkdir()
    path.write_text('{"job": ')
    with pytest.raises(IngestError, match=r"Encord job record .*batch-00002.json cannot be read .*delete the file"):
        read_job_record(path)
