"""V7 Darwin payloads and answers, checked against the registration guide in shared/seeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.items import make_items
from airflow_ingest.core.outcomes import OutcomeKind
from airflow_ingest.core.plan import Plan, make_plan, path_opener
from airflow_ingest.platforms import limits_for, manifest_builder
from airflow_ingest.platforms.darwin.answers import darwin_outcomes
from airflow_ingest.platforms.darwin.documents import DarwinItem, DarwinPayload, darwin_payload
from airflow_ingest.platforms.darwin.target import DarwinTarget
from tests.unit.test_core import obj

TARGET = DarwinTarget(dataset_slug="my-dataset", storage_slug="my-storage")


def test_payload_matches_the_guides_basic_example_field_by_field() -> None:
    # The guide's first example: one image at the bucket root, registered at "/".
    items = [i for i in make_items([obj("car_1.png")], "file")]
    payload = json.loads(darwin_payload(items, TARGET).to_json())  # type: ignore[arg-type]
    assert payload == {
        "items": [{"path": "/", "type": "image", "storage_key": "car_1.png", "name": "car_1.png"}],
        "dataset_slug": "my-dataset",
        "storage_slug": "my-storage",
    }


def test_nested_keys_keep_their_folder_as_the_item_path() -> None:
    # The storage_key is the guide's; the path mirrors the key's folder (darwin-py's preserve_folders), so
    # car_folder/car_1.png and other/car_1.png never collide on V7's (path, name) identity.
    items = [i for i in make_items([obj("car_folder/car_1.png"), obj("other/car_1.png")], "file")]
    payload = json.loads(darwin_payload(items, TARGET).to_json())  # type: ignore[arg-type]
    assert payload["items"] == [
        {"path": "/car_folder", "type": "image", "storage_key": "car_folder/car_1.png", "name": "car_1.png"},
        {"path": "/other", "type": "image", "storage_key": "other/car_1.png", "name": "car_1.png"},
    ]


@pytest.mark.parametrize(
    ("key", "darwin_type"),
    [("v/car_video.mp4", "video"), ("d/my_dicom_series.dcm", "dicom"), ("p/a.pdf", "pdf"), ("n/brain.nii.gz", "video")],
)
def test_types_follow_the_extension(key: str, darwin_type: str) -> None:
    items = [i for i in make_items([obj(key)], "file")]
    assert json.loads(darwin_payload(items, TARGET).to_json())["items"][0]["type"] == darwin_type  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [
        {"path": "/", "type": "image", "storage_key": "/leading/slash.png", "name": "x"},
        {"path": "relative", "type": "image", "storage_key": "a.png", "name": "x"},
        {"path": "/", "type": "audio", "storage_key": "a.mp3", "name": "x"},
        {"path": "/", "type": "image", "storage_key": "a.png", "name": "x", "unknown": 1},
        {"path": "/", "type": "image", "storage_key": "a.png"},
    ],
)
def test_items_are_validated_before_anything_is_sent(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        DarwinItem.model_validate(bad)


def test_a_payload_never_holds_more_than_100_items() -> None:
    item = DarwinItem(path="/", type="image", storage_key="a.png", name="a.png")
    with pytest.raises(ValidationError):
        DarwinPayload(items=[item] * 101, dataset_slug="d", storage_slug="s")


def test_bad_targets_and_limits_name_the_field() -> None:
    with pytest.raises(ConfigError, match=r"target\.dataset_slug='My Dataset'"):
        manifest_builder("darwin", {"dataset_slug": "My Dataset", "storage_slug": "s"})
    with pytest.raises(ConfigError, match=r"target\.storage_slug"):
        manifest_builder("darwin", {"dataset_slug": "d"})
    with pytest.raises(ConfigError, match="platform='labelbox'"):
        manifest_builder("labelbox", {})
    with pytest.raises(ConfigError, match="at most 100 entries per batch"):
        limits_for("darwin", max_entries=101)
    assert limits_for("darwin") == Limits(max_entries=100, max_bytes=None)


PAYLOAD = {
    "items": [
        {"path": "/a", "type": "image", "storage_key": "a/1.png", "name": "1.png"},
        {"path": "/a", "type": "image", "storage_key": "a/2.png", "name": "2.png"},
        {"path": "/b", "type": "image", "storage_key": "b/1.png", "name": "1.png"},
        {"path": "/b", "type": "image", "storage_key": "b/3.png", "name": "3.png"},
    ],
    "dataset_slug": "d",
    "storage_slug": "s",
}


def test_answer_becomes_one_outcome_per_item_sent() -> None:
    answer = {
        "items": [{"id": "1", "name": "1.png", "path": "/a", "slots": []}],
        "blocked_items": [
            {"name": "2.png", "path": "/a", "slots": [{"reason": "ALREADY_EXISTS"}]},
            {"name": "1.png", "path": "/b", "slots": [{"reason": "UNSUPPORTED_FILE: tiff with 5 channels"}]},
        ],
    }
    outcomes = {o.item: o for o in darwin_outcomes(PAYLOAD, answer)}
    assert len(outcomes) == 4
    assert outcomes["/a/1.png"].outcome is OutcomeKind.REGISTERED
    assert outcomes["/a/2.png"].outcome is OutcomeKind.DUPLICATE
    assert (outcomes["/b/1.png"].outcome, outcomes["/b/1.png"].reason) == (
        OutcomeKind.BLOCKED,
        "UNSUPPORTED_FILE: tiff with 5 channels",
    )
    missing = outcomes["/b/3.png"]
    assert missing.outcome is OutcomeKind.FAILED and missing.retryable and "did not mention" in missing.reason


def test_answer_without_paths_is_matched_by_name() -> None:
    payload = {**PAYLOAD, "items": PAYLOAD["items"][:2]}  # type: ignore[index]
    answer = {"items": [{"id": "1", "name": "1.png"}], "blocked_items": [{"name": "2.png", "slots": [{}]}]}
    outcomes = {o.item: o for o in darwin_outcomes(payload, answer)}
    assert outcomes["/a/1.png"].outcome is OutcomeKind.REGISTERED
    assert (outcomes["/a/2.png"].outcome, outcomes["/a/2.png"].reason) == (
        OutcomeKind.BLOCKED,
        "blocked without a reason",
    )


def test_plan_writes_valid_manifests_an_index_and_the_plan(tmp_path: Path) -> None:
    objects = [obj(f"imgs/{i:04d}.jpg", size=i) for i in range(250)] + [obj("notes.txt"), obj("clips/a.mp4")]
    builder = manifest_builder("darwin", {"dataset_slug": "my-dataset", "storage_slug": "my-storage"})
    plan = make_plan(objects, builder, limits_for("darwin"), path_opener(tmp_path))
    assert (plan.objects, plan.items, plan.skipped_count, len(plan.batches)) == (252, 251, 1, 3)
    assert [b.entries for b in plan.batches] == [100, 100, 51]
    assert plan.skipped == [{"url": "s3://bucket/notes.txt", "reason": plan.skipped[0]["reason"]}]
    seen = []
    lines = [json.loads(line) for line in (tmp_path / "items.jsonl").read_text().splitlines()]
    for number, batch in enumerate(plan.batches, start=1):
        payload = DarwinPayload.model_validate_json((tmp_path / batch.path).read_text())
        index = [line for line in lines if line["batch"] == number]
        assert [f"{i.path.rstrip('/')}/{i.name}" for i in payload.items] == [e["item"] for e in index]
        seen += [e["objects"][0]["url"] for e in index]
    assert seen == [o.url for o in objects if not o.key.endswith(".txt")]
    assert Plan.from_json(json.loads((tmp_path / "plan.json").read_text())).to_json() == plan.to_json()
