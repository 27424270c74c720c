"""The fake V7 is exactly as strict as V7's registration guide (``shared/seeds/004``), over HTTP.

One test per rule the fake can check proves it refuses the violation, each next to the guide's words; then
every example in the guide, and every form darwin-py sends, is accepted. The README's "Conformance" section
lists the same rules.
"""

from __future__ import annotations

import copy
import json
import zlib
from typing import Any

import pytest
import requests

from tests.harness import FakeDarwin

DATASET, STORAGE = "demo-dataset", "demo-storage"


def body(*items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"items": list(items), "dataset_slug": DATASET, "storage_slug": STORAGE, **extra}


def post(
    darwin: FakeDarwin, document: Any, *, readonly: bool = False, headers: dict[str, str] | None = None, **kw: Any
) -> requests.Response:
    endpoint = "register_existing_readonly" if readonly else "register_existing"
    sent = {"Authorization": f"ApiKey {FakeDarwin.API_KEY}", "Content-Type": "application/json", **(headers or {})}
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    url = f"{darwin.url}/api/v2/teams/{kw.get('team', FakeDarwin.TEAM)}/items/{endpoint}"
    return requests.post(url, data=data, headers=sent, timeout=30)


# --- the guide's own examples (read-write), verbatim but for the dataset and storage slugs ------------------
IMAGE = {"path": "/", "type": "image", "storage_key": "car_folder/car_1.png", "name": "car_1.png"}
VIDEO = {"path": "/", "type": "video", "fps": 5, "storage_key": "video_folder/car_video.mp4", "name": "car_video.mp4"}
MULTI = {
    "path": "/",
    "slots": [
        {"slot_name": "0", "type": "image", "storage_key": "car_folder/car_1.png", "file_name": "car_1.png"},
        {"slot_name": "1", "type": "image", "storage_key": "car_folder/car_2.png", "file_name": "car_2.png"},
        {"slot_name": "3", "type": "video", "storage_key": "car_folder/cars.mp4", "file_name": "cars.mp4"},
    ],
    "name": "cars",
}
DICOM = {"path": "/", "type": "dicom", "storage_key": "dicom_folder/my_dicom_series.dcm", "name": "my_dicom_series.dcm"}
SLICES = {
    "path": "/",
    "slots": [
        {"slot_name": "0", "type": "dicom", "storage_key": f"dicom_slices/slice_{n}.dcm", "file_name": f"slice_{n}.dcm"}
        for n in (1, 2, 3)
    ],
    "name": "my_dicom_series",
}
MPR = {
    "path": "/",
    "slots": [
        {"type": "dicom", "slot_name": "0", "storage_key": "001/slice1.dcm", "file_name": "slice1.dcm"}
        | {"extract_views": "true"}
    ],
    "name": "001.dcm",
}
OPTIONS = {"options": {"ignore_dicom_layout": True}}

# --- read-only examples --------------------------------------------------------------------------------------
RO_IMAGE = {**IMAGE, "storage_thumbnail_key": "thumbnails/car_1_thumbnail.png", "height": 1080, "width": 1920}
SECTIONS = [
    {
        "section_index": n,
        "height": 1080,
        "width": 1920,
        "storage_hq_key": f"video_folder/car_video/frame_{n}_hq.png",
        "storage_lq_key": f"video_folder/car_video/frame_{n}_lq.png",
    }
    for n in (1, 2)
]
RO_VIDEO = {
    "path": "/",
    "type": "video",
    "storage_key": "video_folder/car_video.mp4",
    "storage_thumbnail_key": "thumbnails/car_video_thumbnail.png",
    "name": "car_video.mp4",
    "sections": SECTIONS,
}
RO_MULTI = {
    "path": "/",
    "slots": [
        {
            "slot_name": str(n),
            "type": "image",
            "storage_key": f"car_folder/car_{n + 1}.png",
            "storage_thumbnail_key": f"thumbnails/car_{n + 1}_thumbnail.png",
            "height": 1080,
            "width": 1920,
            "file_name": f"car_{n + 1}.png",
        }
        for n in (0, 1)
    ]
    + [
        {
            "slot_name": "2",
            "type": "video",
            "storage_key": "video_folder/car_video.mp4",
            "storage_thumbnail_key": "thumbnails/car_video_thumbnail.png",
            # The guide's example says "cars.mp4" here, against its own rule two lines below it ("file_name
            # should match the exact file name of the file in that slot (i.e. the last part of storage_key)").
            # We follow the rule; the README says so.
            "file_name": "car_video.mp4",
            "sections": SECTIONS,
        }
    ],
    "name": "cars",
}


def test_every_read_write_example_in_the_guide_is_accepted(darwin: FakeDarwin) -> None:
    for n, item in enumerate([IMAGE, VIDEO, MULTI, DICOM, SLICES, MPR]):
        answer = post(darwin, body({**item, "path": f"/{n}"}))
        assert answer.status_code == 200, answer.text
        assert answer.json()["blocked_items"] == []
    assert post(darwin, body({**DICOM, "path": "/opt"}, **OPTIONS)).status_code == 200


def test_every_read_only_example_in_the_guide_is_accepted(darwin: FakeDarwin) -> None:
    for n, item in enumerate([RO_IMAGE, RO_VIDEO, RO_MULTI]):
        answer = post(darwin, body({**item, "path": f"/{n}"}), readonly=True)
        assert answer.status_code == 200, answer.text


def test_a_slot_without_type_is_typed_from_its_file_name(darwin: FakeDarwin) -> None:
    # "When including file_name, if it correctly specifies the extension of the file in external storage, you
    # can omit the type field."
    untyped = copy.deepcopy(MULTI)
    for slot in untyped["slots"]:
        del slot["type"]
    untyped["slots"].append({"slot_name": "4", "storage_key": "mri/brain.nii.gz", "file_name": "brain.nii.gz"})
    assert post(darwin, body(untyped)).status_code == 200
    held = darwin.state()["registered"][0]["slots"]
    assert [s["type"] for s in held] == ["image", "image", "video", "video"]


@pytest.mark.parametrize("level", [1, 6, 9])
def test_zlib_compressed_bodies_are_read_like_plain_json(darwin: FakeDarwin, level: int) -> None:
    # darwin-py's global/payload_compression_level: zlib.compress(json) with X-Darwin-Payload-Compression-Version: 1
    packed = zlib.compress(json.dumps(body(IMAGE)).encode(), level)
    answer = post(darwin, packed, headers={"X-Darwin-Payload-Compression-Version": "1"})
    assert answer.status_code == 200 and answer.json()["items"][0]["name"] == "car_1.png"


def test_what_darwin_py_sends_is_accepted(darwin: FakeDarwin) -> None:
    # register_multi_slotted: slots named after their files, each DICOM file in a slot of its own, fps as given
    # (a string when the user passed one); register_single_slotted: extract_views on a DICOM item.
    slots = [
        {"slot_name": "a.dcm", "type": "dicom", "storage_key": "s/a.dcm", "file_name": "a.dcm"},
        {"slot_name": "b.dcm", "type": "dicom", "storage_key": "s/b.dcm", "file_name": "b.dcm"},
        {"slot_name": "v.mp4", "type": "video", "storage_key": "s/v.mp4", "file_name": "v.mp4", "fps": "5"},
    ]
    single = {**DICOM, "extract_views": "true"}
    assert post(darwin, body({"slots": slots, "name": "s", "path": "/s"}, single)).status_code == 200


def _slot(**changes: Any) -> dict[str, Any]:
    item = copy.deepcopy(MULTI)
    item["slots"][0].update(changes)
    item["slots"][0] = {k: v for k, v in item["slots"][0].items() if v is not None}
    return item


def rule(name: str, words: str, document: dict[str, Any], readonly: bool, says: str) -> Any:
    """One documented rule: the guide's words (or source), a body breaking it, the endpoint, what the 400 says."""
    return pytest.param(words, document, readonly, says, id=name)


RULES = [
    rule("type-known", "type ... can be image, video, pdf or dicom", body({**IMAGE, "type": "audio"}), False, "type"),
    rule(
        "storage-key-no-leading-slash",
        "storage_key ... cannot start with a forward slash",
        body({**IMAGE, "storage_key": "/car_folder/car_1.png"}),
        False,
        "forward slash",
    ),
    rule(
        "path-is-a-folder", "path: the folder path within the dataset", body({**IMAGE, "path": "cars"}), False, "path"
    ),
    rule("name-required", "name: the name of the resulting dataset item", body({**IMAGE, "name": None}), False, "name"),
    rule(
        "item-needs-type-and-key-or-slots",
        "items: type + storage_key, or slots",
        body({"path": "/", "name": "x"}),
        False,
        "either type",
    ),
    rule(
        "not-both-shapes",
        "single files or slots",
        body({**MULTI, "type": "image", "storage_key": "a.png"}),
        False,
        "either type",
    ),
    rule("no-unknown-fields", "only the documented fields", body({**IMAGE, "colour": "red"}), False, "colour"),
    rule(
        "fps-only-for-videos",
        "fps ... for videos; DICOM: no fps value can be passed",
        body({**DICOM, "fps": 5}),
        False,
        "fps",
    ),
    rule(
        "type-needs-an-extension",
        "type can be omitted if file_name specifies the extension",
        body(_slot(type=None, file_name="car_1", storage_key="car_folder/car_1")),
        False,
        "no known extension",
    ),
    rule(
        "file-name-ends-storage-key",
        "file_name should match the last part of storage_key",
        body(_slot(file_name="car_9.png")),
        False,
        "last part of storage_key",
    ),
    rule(
        "only-dicom-shares-a-slot",
        "Only DICOM slices can be registered within the same slot_name",
        body(_slot(slot_name="1")),
        False,
        "share a slot",
    ),
    rule(
        "extract-views-slot-0",
        "extract_views: the specified slot_name must be 0",
        body({**MPR, "slots": [{**MPR["slots"][0], "slot_name": "1"}]}),
        False,
        "extract_views",
    ),
    rule(
        "extract-views-is-true",
        'extract_views: "true"',
        body({**DICOM, "extract_views": "yes"}),
        False,
        "extract_views",
    ),
    rule(
        "options-documented",
        'options: {"ignore_dicom_layout": True}',
        body(IMAGE, options={"dicom": True}),
        False,
        "dicom",
    ),
    rule("items-not-empty", "items: a list of dictionaries, one per item", body(), False, "items"),
    rule(
        "at-most-100-items",
        "API reference: 100 items per request",
        body(*[{**IMAGE, "name": f"{n}.png"} for n in range(101)]),
        False,
        "at most 100",
    ),
    rule("ro-thumbnail", "read-only: a thumbnail file for each item", body(IMAGE), True, "storage_thumbnail_key"),
    rule("ro-size", "read-only images: height and width", body({**RO_IMAGE, "height": None}), True, "width and height"),
    rule(
        "ro-video-sections",
        "read-only videos: pre-extracted frames (sections)",
        body({**RO_VIDEO, "sections": None}),
        True,
        "sections",
    ),
    rule(
        "ro-section-order",
        "section_index 1, 2, ...",
        body({**RO_VIDEO, "sections": SECTIONS[::-1]}),
        True,
        "section_index",
    ),
    rule(
        "ro-section-fields",
        "sections: section_index, height, width, storage_hq_key, storage_lq_key",
        body({**RO_VIDEO, "sections": [{**SECTIONS[0], "storage_lq_key": None}]}),
        True,
        "storage_lq_key",
    ),
    rule(
        "ro-no-dicom",
        "DICOM files cannot be registered directly in read-only",
        body({**DICOM, "storage_thumbnail_key": "t.png", "height": 1, "width": 1}),
        True,
        "dicom",
    ),
    rule("ro-no-fps", "read-only: frames are pre-extracted, no fps", body({**RO_VIDEO, "fps": 5}), True, "fps"),
    rule(
        "ro-one-file-per-slot",
        "read-only: no two files can be registered to the same slot",
        body({**RO_MULTI, "slots": [RO_MULTI["slots"][0], {**RO_MULTI["slots"][1], "slot_name": "0"}]}),
        True,
        "same slot",
    ),
    rule(
        "ro-hls-video-complete",
        "darwin-py's read-only video form: all of its required fields once one HLS field is given",
        body({**RO_VIDEO, "sections": None, "hls_segments": {}, "width": 64, "height": 48}),
        True,
        "also needs native_fps, visible_frames",
    ),
    rule(
        "ro-file-name-ends-storage-key",
        "read-only: file_name should match the last part of storage_key",
        body({**RO_MULTI, "slots": [{**RO_MULTI["slots"][0], "file_name": "x.png"}]}),
        True,
        "last part",
    ),
]


def _drop_nones(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nones(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nones(v) for v in value]
    return value


@pytest.mark.parametrize(("words", "document", "readonly", "says"), RULES)
def test_the_fake_refuses_what_the_guide_forbids(
    darwin: FakeDarwin, words: str, document: dict[str, Any], readonly: bool, says: str
) -> None:
    answer = post(darwin, _drop_nones(document), readonly=readonly)
    assert answer.status_code == 400, f"{words!r} was not enforced: {answer.text}"
    assert says.lower() in answer.text.lower()
    assert darwin.state()["registered"] == []


def test_a_key_is_needed_and_only_for_its_own_team(darwin: FakeDarwin) -> None:
    # "Authorization": f"ApiKey {api_key}" on every request; the URL names the key's team
    assert post(darwin, body(IMAGE), headers={"Authorization": "ApiKey wrong"}).status_code == 401
    assert post(darwin, body(IMAGE), headers={"Authorization": FakeDarwin.API_KEY}).status_code == 401
    assert post(darwin, body(IMAGE), team="other-team").status_code == 403


def test_the_dataset_and_storage_must_exist(darwin: FakeDarwin) -> None:
    assert post(darwin, {**body(IMAGE), "dataset_slug": "nope"}).status_code == 404
    assert post(darwin, {**body(IMAGE), "storage_slug": "nope"}).status_code == 400


def test_a_compressed_body_must_inflate_and_name_a_known_version(darwin: FakeDarwin) -> None:
    packed = zlib.compress(json.dumps(body(IMAGE)).encode())
    assert post(darwin, packed, headers={"X-Darwin-Payload-Compression-Version": "2"}).status_code == 400
    plain = json.dumps(body(IMAGE)).encode()
    assert post(darwin, plain, headers={"X-Darwin-Payload-Compression-Version": "1"}).status_code == 400


def test_a_path_and_name_taken_comes_back_blocked_already_exists(darwin: FakeDarwin) -> None:
    # "'blocked_items' in body": an item already in the dataset is blocked, the others in the request land
    assert post(darwin, body(IMAGE)).status_code == 200
    answer = post(darwin, body(IMAGE, {**IMAGE, "name": "car_2.png"})).json()
    assert [i["name"] for i in answer["items"]] == ["car_2.png"]
    assert [s["reason"] for s in answer["blocked_items"][0]["slots"]] == ["ALREADY_EXISTS"]
