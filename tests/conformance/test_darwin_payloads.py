"""Our ``register_existing`` payloads against darwin-py's for the same files, field by field.

darwin-py builds its payloads in its own venv (``scripts/darwin_payloads.py`` runs its ``register`` with the
request captured, not sent); ours come from :func:`airflow_ingest.core.darwin.darwin_payload`. Every field where
the two differ is listed in :data:`EXPECTED` with the reason and which one V7's registration guide
(``shared/seeds/004``) supports; a new difference, or a listed one that is gone, fails. The README's
"Conformance" section has the same table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from airflow_ingest.core.items import Item, make_items
from airflow_ingest.platforms import limits_for
from airflow_ingest.platforms.darwin.documents import DarwinPayload, darwin_payload
from airflow_ingest.platforms.darwin.target import DarwinTarget
from tests.conformance.sdk import run_sdk
from tests.fakes.darwin import RegisterBody, item_problem
from tests.unit.test_core import obj

FILES = ["root.png", "cars/car_1.png", "cars/night/car_2.jpg", "slides/s.svs", "videos/car.mp4"]
FILES += ["docs/report.pdf", "dicom/my_dicom_series.dcm", "mri/brain.nii.gz", "mri/b.nii", "scans/slide.ndpi"]
UPPER = ["scans/CAR.PNG", "scans/Car.Jpeg", "videos/CLIP.MOV"]
FOLDERS = ["car_folder/car_1.png", "car_folder/car_2.png", "car_folder/cars.mp4"]
FOLDERS += ["dicom_slices/slice_1.dcm", "dicom_slices/slice_2.dcm", "patients/p1/1.dcm", "patients/p1/2.dcm"]
MANY = [f"many/img_{n:02d}.png" for n in range(12)]
OPTIONS = ["ct/1.dcm"]

# case: (keys, our layout, our target options, darwin-py's register arguments; multi_slotted takes our item names)
CASES: dict[str, tuple[list[str], str, dict[str, Any], dict[str, Any]]] = {
    "files": (FILES, "file", {"fps": 5, "extract_views": True}, {"fps": 5, "multi_planar_view": True}),
    "upper-case extensions": (UPPER, "file", {}, {}),
    "folders": (FOLDERS, "folder", {"fps": 5, "extract_views": True}, {"fps": 5, "multi_planar_view": True}),
    "ignore_dicom_layout": (OPTIONS, "file", {"ignore_dicom_layout": True}, {}),
    "many": (MANY, "file", {}, {}),
}

EXPECTED: dict[str, tuple[Any, Any, str]] = {
    "upper-case extensions: darwin-py": (
        "registers all 3",
        "TypeError: Unsupported file type for the following storage key: scans/CAR.PNG.",
        "darwin-py matches extensions case-sensitively (.JPEG and .JPG but not .PNG, .Jpeg or .MOV). We send "
        "`type`, so V7 needs no extension; the guide puts no case rule on keys. Guide: ours.",
    ),
    "folders car_folder: path": (
        "/",
        "/car_folder",
        "darwin-py files a multi-slot item in the folder of its first file; we file the folder's item in the "
        "folder's parent, named after the folder, so the dataset mirrors the bucket. `path` is any folder. "
        "Guide: both.",
    ),
    "folders p1: path": ("/patients", "/patients/p1", "as above. Guide: both."),
    "folders dicom_slices: path": ("/", "/dicom_slices", "as above. Guide: both."),
    **{
        f"folders car_folder: slots[{name}].slot_name": (
            str(n),
            name,
            "darwin-py names slots after their files; we number them as the guide's examples do. Slot names are "
            "any string. Guide: both.",
        )
        for n, name in enumerate(["car_1.png", "car_2.png", "cars.mp4"])
    },
    **{
        f"folders {item}: slots[{name}].slot_name": (
            "0",
            name,
            "darwin-py gives every DICOM file a slot of its own: the slices would show side by side, not as one "
            "volume. The guide: slices of a series share a slot_name, and extract_views needs slot 0. Guide: ours.",
        )
        for item, names in (("dicom_slices", ["slice_1.dcm", "slice_2.dcm"]), ("p1", ["1.dcm", "2.dcm"]))
        for name in names
    },
    "ignore_dicom_layout: options": (
        {"ignore_dicom_layout": True},
        None,
        "darwin-py's register has no way to send the guide's documented option. Guide: ours.",
    ),
    "many: items per request": (
        [12],
        [10, 2],
        "darwin-py sends 10 items a request; V7's API reference allows 100, and 100 requests a minute. Both valid.",
    ),
}


def our_items(keys: list[str], layout: str) -> list[Item]:
    return [i for i in make_items([obj(k) for k in keys], layout) if isinstance(i, Item)]


def our_payloads(keys: list[str], layout: str, options: dict[str, Any]) -> list[dict[str, Any]]:
    items = our_items(keys, layout)
    target = DarwinTarget(dataset_slug="my-dataset", storage_slug="my-storage", **options)
    size = limits_for("darwin").max_entries
    chunks = [items[n : n + size] for n in range(0, len(items), size)]
    return [json.loads(darwin_payload(chunk, target).to_json()) for chunk in chunks]


def sdk_run(keys: list[str], layout: str, arguments: dict[str, Any]) -> dict[str, Any]:
    if layout == "file":
        return {"storage_keys": keys, "preserve_folders": True, **arguments}
    grouped = {i.name: [o.key for s in i.series for o in s.objects] for i in our_items(keys, layout)}
    return {"storage_keys": grouped, "multi_slotted": True, "preserve_folders": True, **arguments}


@pytest.fixture(scope="module")
def sdk_payloads() -> dict[str, dict[str, Any]]:
    runs = [sdk_run(keys, layout, arguments) for keys, layout, _, arguments in CASES.values()]
    spec = json.dumps({"dataset": "my-dataset", "storage": "my-storage", "runs": runs})
    return dict(zip(CASES, run_sdk("darwin", "darwin_payloads.py", spec), strict=True))


def differences(case: str, ours: list[dict[str, Any]], sdk: dict[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    """(field, ours, darwin-py's) for every field that differs; items are matched by their storage keys."""
    if "error" in sdk:
        yield "darwin-py", f"registers all {sum(len(p['items']) for p in ours)}", sdk["error"]
        return
    theirs = sdk["payloads"]
    if [len(p["items"]) for p in ours] != [len(p["items"]) for p in theirs]:
        yield "items per request", [len(p["items"]) for p in ours], [len(p["items"]) for p in theirs]
    for field in ("dataset_slug", "storage_slug", "options"):
        if ours[0].get(field) != theirs[0].get(field):
            yield field, ours[0].get(field), theirs[0].get(field)

    def by_keys(payloads: list[dict[str, Any]]) -> dict[tuple[str, ...], dict[str, Any]]:
        items = [i for p in payloads for i in p["items"]]
        return {tuple(sorted(s["storage_key"] for s in i.get("slots", [i]))): i for i in items}

    mine, other = by_keys(ours), by_keys(theirs)
    assert mine.keys() == other.keys(), f"{case}: the two group files into different items"
    for files, item in mine.items():
        sent = other[files]
        for field in sorted((item.keys() | sent.keys()) - {"slots"}):
            if item.get(field) != sent.get(field):
                yield f"{item['name']}: {field}", item.get(field), sent.get(field)
        slots = {s["storage_key"]: s for s in sent.get("slots", [])}
        for slot in item.get("slots", []):
            twin = slots[slot["storage_key"]]
            for field in sorted(slot.keys() | twin.keys()):
                if slot.get(field) != twin.get(field):
                    yield f"{item['name']}: slots[{slot['file_name']}].{field}", slot.get(field), twin.get(field)


def test_every_difference_from_darwin_pys_payloads_is_known(sdk_payloads: dict[str, dict[str, Any]]) -> None:
    found: dict[str, tuple[Any, Any]] = {}
    for case, (keys, layout, options, _) in CASES.items():
        for field, ours, theirs in differences(case, our_payloads(keys, layout, options), sdk_payloads[case]):
            name = f"{case}: {field}" if field.startswith(("darwin-py", "items", "options")) else f"{case} {field}"
            found[name] = (ours, theirs)
    assert found == {name: (ours, theirs) for name, (ours, theirs, _) in EXPECTED.items()}


def test_darwin_pys_fields_for_single_files_are_ours(sdk_payloads: dict[str, dict[str, Any]]) -> None:
    # The one shape both build the same: file layout against register(preserve_folders=True).
    ours = our_payloads(FILES, "file", {"fps": 5, "extract_views": True})
    assert ours == sdk_payloads["files"]["payloads"]  # ten files: one request on both sides


_KEY_PART = st.text(st.characters(codec="utf-8", exclude_characters="/\x00"), min_size=1, max_size=12)
_EXT = st.sampled_from([".png", ".JPG", ".mp4", ".pdf", ".dcm", ".nii.gz", ".svs"])


@given(
    keys=st.lists(st.builds(lambda d, n, e: f"{d}/{n}{e}", _KEY_PART, _KEY_PART, _EXT), min_size=1, max_size=8),
    layout=st.sampled_from(["file", "folder", "study"]),
    extract_views=st.booleans(),
)
@settings(max_examples=150, deadline=None)
def test_our_payloads_pass_every_rule_the_fake_enforces(keys: list[str], layout: str, extract_views: bool) -> None:
    # The fake's own models and item rules, in process: our payloads never break a documented rule.
    items = our_items(sorted(set(keys)), layout)
    if not items:
        return
    options = {"fps": 5, "extract_views": extract_views}
    for payload in our_payloads(sorted(set(keys)), layout, options):
        body = RegisterBody.model_validate(payload)
        assert [item_problem(item) for item in body.items] == [None] * len(body.items)


_SLOT = {"slot_name": "0", "type": "dicom", "storage_key": "ct/1.dcm", "file_name": "1.dcm"}


@pytest.mark.parametrize(
    ("slots", "says"),
    [
        ([{**_SLOT, "file_name": "2.dcm"}], "last part of storage_key"),
        ([{**_SLOT, "slot_name": "1", "extract_views": "true"}], "extract_views needs slot_name '0'"),
        ([{**_SLOT, "type": "image", "storage_key": "a.png", "file_name": "a.png"}] * 2, "only DICOM"),
    ],
    ids=["file-name-ends-storage-key", "extract-views-slot-0", "only-dicom-shares-a-slot"],
)
def test_our_payload_model_refuses_what_the_guide_forbids(slots: list[dict[str, Any]], says: str) -> None:
    # The same rules as the fake's, checked before anything is written or sent.
    document = {"items": [{"path": "/", "name": "x", "slots": slots}], "dataset_slug": "d", "storage_slug": "s"}
    with pytest.raises(ValidationError, match=says):
        DarwinPayload.model_validate(document)
    DarwinPayload.model_validate({**document, "items": [{"path": "/", "name": "x", "slots": [_SLOT, _SLOT]}]})
