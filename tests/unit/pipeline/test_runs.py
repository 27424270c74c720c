"""Reading a run folder: the listing and the plan, or an error naming the file a step left unwritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.plan import make_plan, path_opener
from airflow_ingest.pipeline.runs import MissingRunFile, read_listing, read_plan, read_plan_heading
from tests.unit.pipeline.runs import builder, listed_run


def test_the_listing_reads_back_as_written(tmp_path: Path) -> None:
    listed = listed_run(tmp_path, 7, filtered=True)
    listing = read_listing(tmp_path)
    assert (listing.source.uri, listing.conn_id, listing.filtered) == ("s3://bkt/", "aws_test", True)
    with listing.objects() as stream:
        assert list(stream) == listed


def test_the_plan_reads_back_as_written(tmp_path: Path) -> None:
    listed = listed_run(tmp_path, 25)
    written = make_plan(listed, builder(), Limits(max_entries=10), path_opener(tmp_path))
    plan = read_plan(tmp_path)
    assert plan.to_json() == written.to_json() and len(plan.batches) == 3


@pytest.mark.parametrize(("reader", "name"), [(read_plan, "plan.json"), (read_listing, "listing.json")])
def test_a_missing_file_is_named(tmp_path: Path, reader: object, name: str) -> None:
    with pytest.raises(MissingRunFile, match=rf"holds no {name}") as raised:
        reader(tmp_path / "nowhere")  # type: ignore[operator]
    assert raised.value.name == name and raised.value.run == tmp_path / "nowhere"


def test_the_heading_reads_a_partial_plan_and_nothing_without_one(tmp_path: Path) -> None:
    assert read_plan_heading(tmp_path) == {}
    (tmp_path / "plan.json").write_text('{"platform": "darwin", "target": {"dataset_slug": "d"}}', encoding="utf-8")
    assert read_plan_heading(tmp_path) == {"platform": "darwin", "target": {"dataset_slug": "d"}}
