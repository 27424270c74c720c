"""The fake RedBrick is exactly as strict as RedBrick's documents: one test per rule it enforces, and the
documents' own examples (and what redbrick-sdk itself sends) pass.

Sources: shared/seeds/000 (RedBrick's "Import Cloud Data" guide, items lists) and 001 (the SDK's upload page).
Every request goes over HTTP as redbrick-sdk sends it (base64(gzip(json)), ``ApiKey``), with the SDK's query.
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest
import requests

from tests.fakes.redbrick import FakeRedBrick
from tests.fakes.redbrick_queries import SDK_OPERATIONS

STORAGE = FakeRedBrick.STORAGE_ID
PUBLIC = "11111111-1111-1111-1111-111111111111"


def call(redbrick: FakeRedBrick, operation: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps({"query": SDK_OPERATIONS[operation][-1], "variables": variables}).encode()
    response = requests.post(
        f"{redbrick.url}/graphql/",
        data=base64.b64encode(gzip.compress(body)),
        headers={"ApiKey": FakeRedBrick.API_KEY, "RB-SDK-Version": "2.35.4", "Content-Encoding-RB": "gzip"},
        timeout=30,
    )
    response.raise_for_status()
    return dict(response.json())


def validate(redbrick: FakeRedBrick, tasks: object, storage: str = STORAGE) -> dict[str, Any]:
    original = tasks if isinstance(tasks, str) else json.dumps(tasks)
    answer = call(
        redbrick, "validateAndConvertToImportFormatSDK", {"original": original, "convert": True, "storageId": storage}
    )
    return dict(answer["data"]["validateAndConvertToImportFormat"] if answer.get("data") else answer)


def refused(redbrick: FakeRedBrick, tasks: object, why: str, storage: str = STORAGE) -> None:
    answer = validate(redbrick, tasks, storage)
    assert answer["isValid"] is False and answer["converted"] is None, answer
    assert why in answer["error"], answer["error"]


def accepted(redbrick: FakeRedBrick, tasks: object, storage: str = STORAGE) -> list[dict[str, Any]]:
    answer = validate(redbrick, tasks, storage)
    assert answer["isValid"] is True, answer
    return list(json.loads(answer["converted"]))


# --- What the documents allow: every example of seeds 000 and 001 passes ---------------------------------

SEED_EXAMPLES = {
    "3D DICOM Study": [{"name": "study001", "series": [
        {"items": ["study001/series001/001.dcm", "study001/series001/002.dcm", "study001/series001/003.dcm"]},
        {"items": ["study001/series002/001.dcm", "study001/series002/002.dcm", "study001/series002/003.dcm"]}]}],
    "3D DICOM Series": [
        {"name": "series001", "series": [{"items": ["series001/001.dcm", "series001/002.dcm", "series001/003.dcm"]}]},
        {"name": "series002", "series": [{"items": ["series002/001.dcm", "series002/002.dcm", "series002/003.dcm"]}]}],
    "NIfTI Study": [{"name": "study001", "series": [{"items": "series001.nii"}, {"items": "series002.nii"}]}],
    "NIfTI Series": [{"name": "series1", "series": [{"items": "series001.nii"}]},
                     {"name": "series2", "series": [{"items": "series002.nii"}]}],
    "Image Study": [{"name": "patient1", "series": [{"items": "scan1.dcm"}, {"items": "scan2.dcm"}]}],
    "Image Series": [{"name": "patient1", "series": [{"items": "scan.dcm"}]},
                     {"name": "patient2", "series": [{"items": "scan.dcm"}]}],
    "Video Frames Study": [{"name": "study001", "series": [
        {"items": ["study001/series001/001.png", "study001/series001/002.png", "study001/series001/003.png"]},
        {"items": ["study001/series002/001.png", "study001/series002/002.png", "study001/series002/003.png"]}]}],
    "Video Frames Series": [{"name": "video1", "series": [{"items": ["001.png", "002.png", "003.png"]}]},
                            {"name": "video2", "series": [{"items": ["001.png", "002.png", "003.png"]}]}],
    "Flat DICOM": [{"name": "study001", "items": ["bbfa85feb36f.dcm", "d4a49634cd4c.dcm", "eed2e7462ba5.dcm",
                                                   "45455dd0e45b.dcm"]}],
    "Flat NIfTI": [{"name": "study001", "items": ["bbfa85feb36f.nii.gz", "d4a49634cd4c.nii"]}],
}  # fmt: skip


@pytest.mark.parametrize("name", list(SEED_EXAMPLES))
def test_every_items_list_example_of_the_guide_is_valid(redbrick: FakeRedBrick, name: str) -> None:
    converted = accepted(redbrick, SEED_EXAMPLES[name])
    assert [c["name"] for c in converted] == [t["name"] for t in SEED_EXAMPLES[name]]


def test_the_upload_pages_example_with_labels_and_public_urls_is_valid(redbrick: FakeRedBrick) -> None:
    """Seed 001: ``{"name", "items": [url], "labels": [...]}`` on public storage."""
    url = "http://datasets.redbrickai.com/car-vids/car-1/frame20.png"
    assert accepted(redbrick, [{"name": "my first upload", "items": [url], "labels": []}], PUBLIC)[0]["items"] == [url]


def test_a_single_video_file_and_one_video_per_series_are_valid(redbrick: FakeRedBrick) -> None:
    accepted(redbrick, [{"name": "v", "series": [{"items": "v/a.mp4"}, {"items": "v/b.mp4"}]}])
    accepted(redbrick, [{"name": "w", "items": ["w/a.mp4"]}])


def test_repeated_names_within_one_call_are_valid_and_the_project_refuses_the_second_task(
    redbrick: FakeRedBrick,
) -> None:
    """Names are "unique for each datapoint" in the project (seed 001; the SDK: "Name must be unique in the
    project"). redbrick-sdk drops repeats only after validating, so validation accepts them; creation refuses."""
    tasks = [{"name": "same", "series": [{"items": "a.png"}]}, {"name": "same", "series": [{"items": "b.png"}]}]
    points = accepted(redbrick, tasks)
    variables = {
        "orgId": FakeRedBrick.ORG_ID, "projectId": FakeRedBrick.PROJECT_ID, "storageId": STORAGE,
        "isGroundTruth": False, "name": "same",
    }  # fmt: skip
    first = call(redbrick, "createDatapointSDK", {**variables, "items": points[0]["items"]})
    assert first["data"]["createDatapoint"]["taskId"]
    second = call(redbrick, "createDatapointSDK", {**variables, "items": points[1]["items"]})
    assert "already exists" in second["errors"][0]["message"] and len(redbrick.tasks()) == 1


# --- One test per rule: the fake refuses each documented violation ------------------------------------------


def test_nifti_items_must_be_a_single_string(redbrick: FakeRedBrick) -> None:
    """Seed 000, NIfTI Study: "Please note that ``items`` must be a single string for NIfTI uploads"."""
    volumes = ["p1/t1.nii.gz", "p1/t2.nii.gz", "p1/flair.nii.gz"]
    refused(redbrick, [{"name": "p1", "series": [{"items": volumes}]}], "must be a single string for NIfTI")
    refused(redbrick, [{"name": "p1", "series": [{"items": ["p1/t1.nii"]}]}], "must be a single string for NIfTI")
    refused(redbrick, [{"name": "p1", "series": [{"items": ["a.dcm", "p1/T1.NII"]}]}], "single string for NIfTI")


def test_a_video_file_is_a_series_of_its_own(redbrick: FakeRedBrick) -> None:
    """A series is "a single volume, image, or video" and a list of items is a video's frames (seed 000)."""
    refused(redbrick, [{"name": "v", "series": [{"items": ["v/a.mp4", "v/b.mp4"]}]}], "a video is a series of its own")
    refused(redbrick, [{"name": "v", "items": ["v/a.mp4", "v/b.mov"]}], "a video file is a task's only item")


def test_a_task_is_an_object_with_a_name(redbrick: FakeRedBrick) -> None:
    refused(redbrick, ["study001"], "not an object")
    refused(redbrick, [{"series": [{"items": "a.png"}]}], "name must be a non-empty string")
    refused(redbrick, [{"name": "", "series": [{"items": "a.png"}]}], "name must be a non-empty string")


def test_a_task_has_either_series_or_flat_items(redbrick: FakeRedBrick) -> None:
    refused(redbrick, [{"name": "t"}], "exactly one of series or items")
    both = {"name": "t", "series": [{"items": "a.png"}], "items": ["a.png"]}
    refused(redbrick, [both], "exactly one of series or items")


def test_series_is_a_non_empty_list_of_objects_with_items(redbrick: FakeRedBrick) -> None:
    refused(redbrick, [{"name": "t", "series": []}], "series must be a non-empty list")
    refused(redbrick, [{"name": "t", "series": [{"name": "s"}]}], "each series is an object with items")
    refused(redbrick, [{"name": "t", "series": [{"items": []}]}], "a path or a non-empty list of paths")


def test_flat_items_is_a_non_empty_list(redbrick: FakeRedBrick) -> None:
    refused(redbrick, [{"name": "t", "items": []}], "items must be a non-empty list")
    refused(redbrick, [{"name": "t", "items": "a.dcm"}], "items must be a non-empty list")


def test_external_storage_takes_paths_relative_to_the_bucket(redbrick: FakeRedBrick) -> None:
    """Seed 000: the items path is "relative to your bucket name or the root folder in your bucket"."""
    refused(redbrick, [{"name": "t", "series": [{"items": "s3://bucket/a.png"}]}], "relative to the bucket")
    refused(redbrick, [{"name": "t", "series": [{"items": "/a.png"}]}], "relative to the bucket")


def test_public_storage_takes_urls(redbrick: FakeRedBrick) -> None:
    """Seed 001: public storage methods "upload URL's to RedBrick that reference publicly stored data"."""
    refused(redbrick, [{"name": "t", "series": [{"items": "a.png"}]}], "public storage takes full http(s) URLs", PUBLIC)


def test_fields_neither_the_docs_nor_the_sdk_name_are_refused(redbrick: FakeRedBrick) -> None:
    refused(redbrick, [{"name": "t", "series": [{"items": "a.png"}], "tilte": "x"}], "unknown field(s) tilte")
    refused(redbrick, [{"name": "t", "series": [{"items": "a.png", "frames": 3}]}], "each series is an object")


def test_an_items_list_is_a_non_empty_list_and_one_bad_task_invalidates_the_call(redbrick: FakeRedBrick) -> None:
    refused(redbrick, [], "non-empty list")
    refused(redbrick, {"name": "t"}, "non-empty list")
    good = {"name": "good", "series": [{"items": "a.png"}]}
    refused(redbrick, [good, {"name": "bad", "series": [{"items": ["x.nii", "y.nii"]}]}], "Task 1 ('bad')")


def test_an_unknown_storage_method_is_a_graphql_error(redbrick: FakeRedBrick) -> None:
    answer = validate(redbrick, [{"name": "t", "series": [{"items": "a.png"}]}], "0b0b0b0b-0000-4000-8000-000000000000")
    assert "not found" in answer["errors"][0]["message"]
