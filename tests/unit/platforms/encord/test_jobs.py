"""Encord job results -> one outcome per planned item, on specs and indexes built by the real planner."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.outcomes import OutcomeKind
from airflow_ingest.core.plan import make_plan, path_opener, read_batch_index
from airflow_ingest.platforms.encord.answers import JobCounts, JobResult, UnitError, encord_outcomes, spec_entries
from airflow_ingest.platforms.encord.documents import EncordManifests
from airflow_ingest.platforms.encord.jobs import (
    JobRecord,
    job_record_path,
    parse_destination,
    read_job_record,
    write_job_record,
)
from airflow_ingest.platforms.encord.target import EncordTarget

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)
FOLDER = "11111111-2222-4333-8444-555555555555"
INTEGRATION = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


def planned(
    tmp: Path, keys: list[str], *, layout: str = "file", **target: Any
) -> tuple[list[dict[str, Any]], dict[str, Any], EncordTarget]:
    """One batch planned exactly as a run plans it: its index lines, its JSON spec and the target."""
    chosen = EncordTarget.model_validate({"region": "eu-west-2", **target})
    objects = [StoredObject(f"s3://bkt/{k}", "bkt", k, 10, f"etag-{k}", NOW) for k in keys]
    plan = make_plan(objects, EncordManifests(chosen), Limits(max_entries=10_000), path_opener(tmp), layout=layout)
    assert len(plan.batches) == 1
    spec = json.loads((tmp / plan.batches[0].path).read_text())
    return read_batch_index(tmp, plan.batches[0]), spec, chosen


def kinds(outcomes: list[Any]) -> dict[str, str]:
    return {o.item: o.outcome.value for o in outcomes}


def test_every_added_entry_is_registered(tmp_path: Path) -> None:
    index, spec, target = planned(tmp_path, ["a/1.png", "a/2.png", "b/clip.mp4"])
    result = JobResult(status="DONE", added=("a/1.png", "a/2.png", "b/clip.mp4"), counts=JobCounts(done=3))
    outcomes = encord_outcomes(result, index, spec, target.linker)
    assert kinds(outcomes) == {"/a/1.png": "registered", "/a/2.png": "registered", "/b/clip.mp4": "registered"}


def test_entries_skipped_under_skip_duplicate_urls_are_duplicates(tmp_path: Path) -> None:
    index, spec, target = planned(tmp_path, ["x/1.png", "x/2.png"])
    result = JobResult(status="DONE", added=("x/1.png",), counts=JobCounts(done=2))
    outcomes = encord_outcomes(result, index, spec, target.linker)
    assert kinds(outcomes) == {"/x/1.png": "registered", "/x/2.png": "duplicate"}
    assert "skip_duplicate_urls" in outcomes[1].reason


def test_without_the_flag_a_missing_entry_is_a_retryable_failure(tmp_path: Path) -> None:
    index, spec, target = planned(tmp_path, ["x/1.png", "x/2.png"], skip_duplicate_urls=False)
    assert "skip_duplicate_urls" not in spec
    outcomes = encord_outcomes(JobResult(status="DONE", added=("x/1.png",)), index, spec, target.linker)
    assert outcomes[1].outcome is OutcomeKind.FAILED and outcomes[1].retryable


def test_unit_errors_block_by_url_with_encords_text(tmp_path: Path) -> None:
    index, spec, target = planned(tmp_path, ["d/ok.png", "d/bad file.png"])
    bad_url = spec["images"][0]["objectUrl"] if "bad" in spec["images"][0]["title"] else spec["images"][1]["objectUrl"]
    assert "%20" in bad_url and bad_url.startswith("https://bkt.s3.eu-west-2.amazonaws.com/")
    result = JobResult(
        status="DONE",
        added=("d/ok.png",),
        unit_errors=(UnitError(object_urls=(bad_url,), error="Expected an image, got text/html"),),
    )
    outcomes = {o.item: o for o in encord_outcomes(result, index, spec, target.linker)}
    assert outcomes["/d/bad file.png"].outcome is OutcomeKind.BLOCKED
    assert "Expected an image, got text/html" in outcomes["/d/bad file.png"].reason
    assert outcomes["/d/ok.png"].outcome is OutcomeKind.REGISTERED


def test_an_unattributed_unit_error_stops_missing_entries_passing_as_duplicates(tmp_path: Path) -> None:
    index, spec, target = planned(tmp_path, ["u/1.png", "u/2.png"])
    stray = UnitError(object_urls=("https://elsewhere/x.png",), error="boom")
    outcomes = encord_outcomes(JobResult(status="DONE", unit_errors=(stray,)), index, spec, target.linker)
    assert {o.outcome for o in outcomes} == {OutcomeKind.FAILED} and all(o.retryable for o in outcomes)


@pytest.mark.parametrize(("status", "words"), [("CANCELLED", "cancelled"), ("ERROR", "ERROR"), ("PENDING", "PENDING")])
def test_a_job_ended_part_way_fails_only_what_it_did_not_do(tmp_path: Path, status: str, words: str) -> None:
    index, spec, target = planned(tmp_path, [f"c/{n}.png" for n in range(4)])
    result = JobResult(status=status, added=("c/0.png",), errors=("disk on fire",), counts=JobCounts(done=1))  # type: ignore[arg-type]
    outcomes = encord_outcomes(result, index, spec, target.linker)
    assert outcomes[0].outcome is OutcomeKind.REGISTERED
    assert all(o.outcome is OutcomeKind.FAILED and o.retryable and words in o.reason for o in outcomes[1:])


def test_a_study_item_combines_its_series(tmp_path: Path) -> None:
    keys = ["s1/ct/1.dcm", "s1/ct/2.dcm", "s1/mr/1.dcm", "s2/ct/1.dcm", "s2/mr/1.dcm", "s3/ct/1.dcm"]
    index, spec, target = planned(tmp_path, keys, layout="study")
    titles = sorted(e.title for e in spec_entries(spec))
    assert titles == ["s1/ct", "s1/mr", "s2/ct", "s2/mr", "s3"]
    mr_url = next(e.urls[0] for e in spec_entries(spec) if e.title == "s2/mr")
    result = JobResult(
        status="DONE",
        added=("s1/ct", "s2/ct"),
        unit_errors=(UnitError(object_urls=(mr_url,), error="Not a DICOM file"),),
    )
    outcomes = {o.item: o for o in encord_outcomes(result, index, spec, target.linker)}
    assert outcomes["/s1"].outcome is OutcomeKind.REGISTERED and outcomes["/s1"].reason.startswith("1 of 2")
    assert outcomes["/s2"].outcome is OutcomeKind.BLOCKED and "s2/mr: Not a DICOM file" in outcomes["/s2"].reason
    assert outcomes["/s3"].outcome is OutcomeKind.DUPLICATE


def test_groups_keep_url_order_past_ten(tmp_path: Path) -> None:
    index, spec, target = planned(tmp_path, [f"seq/{n}.png" for n in range(12)], layout="folder")
    (entry,) = spec_entries(spec)
    assert [u.rsplit("/", 1)[1] for u in entry.urls] == [f"{n}.png" for n in range(12)]
    outcomes = encord_outcomes(JobResult(status="DONE", added=(entry.title,)), index, spec, target.linker)
    assert [o.outcome for o in outcomes] == [OutcomeKind.REGISTERED]


def test_protocol_style_urls_map_back_too(tmp_path: Path) -> None:
    index, spec, target = planned(tmp_path, ["p/a b+c.png"], url_style="protocol")
    assert spec["images"][0]["objectUrl"] == "s3://bkt/p/a%20b%2Bc.png"
    error = UnitError(object_urls=("s3://bkt/p/a%20b%2Bc.png",), error="403 from the bucket")
    outcomes = encord_outcomes(JobResult(status="ERROR", unit_errors=(error,)), index, spec, target.linker)
    assert outcomes[0].outcome is OutcomeKind.BLOCKED and "403 from the bucket" in outcomes[0].reason


def test_destination_is_a_folder_or_a_dataset() -> None:
    folder = parse_destination({"folder_uuid": FOLDER, "integration_id": INTEGRATION})
    assert (folder.kind, folder.target_id, folder.ignore_errors) == ("folder", FOLDER, True)
    with pytest.raises(ConfigError, match="exactly one of folder_uuid and dataset_hash"):
        parse_destination({"folder_uuid": FOLDER, "dataset_hash": FOLDER, "integration_id": INTEGRATION})
    with pytest.raises(ConfigError, match=r"destination\.integration_id"):
        parse_destination({"folder_uuid": FOLDER, "integration_id": "not-a-uuid"})


def test_job_records_live_beside_the_manifests(tmp_path: Path) -> None:
    manifest = tmp_path / "run" / "manifests" / "batch-00007.json"
    path = job_record_path(manifest)
    assert path == tmp_path / "run" / "jobs" / "batch-00007.json"
    assert read_job_record(path) is None
    write_job_record(path, JobRecord(state="started", destination=f"folder:{FOLDER}", spec="abc", job_id="j-1"))
    record = read_job_record(path)
    assert record is not None and (record.state, record.job_id) == ("started", "j-1")
