"""darwin-py, V7's official SDK, runs its own registration flow against the fake V7 over HTTP.

The script (``scripts/darwin_register.py``, in the ``.sdk/darwin`` venv) does what a user's script does:
``Client.from_api_key`` (base URL from ``DARWIN_BASE_URL``), ``get_remote_dataset``, ``get_external_storage``,
then ``RemoteDatasetV2.register`` for single files, multi-slot items, DICOM and videos, with and without its
zlib-compressed bodies. It runs once for the module; each test checks one part of what it and the fake saw.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conformance.sdk import run_sdk
from tests.harness import FakeDarwin

DATASET, STORAGE = "demo-dataset", "demo-storage"
SINGLES = ["cars/car_1.png", "cars/night/car_2.jpg", "videos/car_video.mp4", "docs/report.pdf"]
SINGLES += ["dicom/my_dicom_series.dcm", "mri/brain.nii.gz"]
MANY = [f"many/img_{n:02d}.png" for n in range(12)]
MULTI = {
    "cars": ["car_folder/car_1.png", "car_folder/car_2.png", "car_folder/cars.mp4"],
    "my_dicom_series": ["dicom_slices/slice_1.dcm", "dicom_slices/slice_2.dcm"],
}
RUNS: list[dict[str, Any]] = [
    {"storage_keys": SINGLES, "fps": 5, "preserve_folders": True, "compression_level": 6},
    {"storage_keys": MANY},
    {"storage_keys": MULTI, "multi_slotted": True, "compression_level": 1},
    {"storage_keys": ["mpr/volume.dcm"], "multi_planar_view": True, "preserve_folders": True},
    {"storage_keys": {"mpr_slices": ["mpr/s1.dcm", "mpr/s2.dcm"]}, "multi_slotted": True, "multi_planar_view": True},
    {"storage_keys": SINGLES, "preserve_folders": True},
]
TYPES = {".png": "image", ".jpg": "image", ".mp4": "video", ".pdf": "pdf", ".dcm": "dicom", ".gz": "video"}


def kind(key: str) -> str:
    return TYPES["." + key.rpartition(".")[2]]


@pytest.fixture(scope="module")
def seen(darwin_server: FakeDarwin) -> Iterator[dict[str, Any]]:
    """What darwin-py printed (``sdk``) and what the fake held and logged afterwards (``fake``)."""
    darwin_server.reset()
    spec = {"dataset": DATASET, "storage": STORAGE, "runs": RUNS}
    env = {"DARWIN_BASE_URL": darwin_server.url, "DARWIN_API_KEY": FakeDarwin.API_KEY}
    sdk = run_sdk("darwin", "darwin_register.py", json.dumps(spec), env=env)
    yield {"sdk": sdk, "fake": darwin_server.state()}
    darwin_server.reset()


def test_darwin_py_resolves_the_team_dataset_and_storage_from_the_fake(seen: dict[str, Any]) -> None:
    sdk = seen["sdk"]
    assert sdk["team"] == FakeDarwin.TEAM
    assert sdk["dataset"] == {"slug": DATASET, "id": 1, "items": 0}
    assert sdk["storage"] == {"name": STORAGE, "provider": "aws", "readonly": False}


def test_the_calls_darwin_py_makes_are_all_served(seen: dict[str, Any]) -> None:
    register = f"POST /api/v2/teams/{FakeDarwin.TEAM}/items/register_existing"
    assert seen["fake"]["calls"] == [
        "GET /api/users/token_info",
        "GET /api/datasets",
        f"GET /api/teams/{FakeDarwin.TEAM}/storage",
        *[register] * 7,  # 1 + 2 (12 items in chunks of 10) + 1 + 1 + 1 + 1
    ]


def test_every_request_was_read_compressed_or_not_in_darwin_pys_chunks(seen: dict[str, Any]) -> None:
    log = [(r["items"], r["compressed"], r["status"]) for r in seen["fake"]["requests"]]
    assert log == [
        (6, True, 200),  # zlib level 6, X-Darwin-Payload-Compression-Version: 1
        (10, False, 200),  # darwin-py sends at most 10 items per request
        (2, False, 200),
        (2, True, 200),
        (1, False, 200),
        (1, False, 400),  # extract_views on a slot other than "0": see the next test
        (6, False, 200),
    ]


def test_the_fake_holds_exactly_what_darwin_py_registered(seen: dict[str, Any]) -> None:
    def single(key: str, path: str, **extra: Any) -> dict[str, Any]:
        return {"path": path, "name": key.rpartition("/")[2], "type": kind(key), "storage_key": key, **extra}

    def slot(key: str, **extra: Any) -> dict[str, Any]:
        name = key.rpartition("/")[2]  # darwin-py names each slot after its file
        return {"slot_name": name, "type": kind(key), "storage_key": key, "file_name": name, **extra}

    expected = [single(k, "/" + k.rpartition("/")[0], **({"fps": 5.0} if kind(k) == "video" else {})) for k in SINGLES]
    expected += [single(k, "/") for k in MANY]
    expected += [{"path": "/", "name": name, "slots": [slot(k) for k in keys]} for name, keys in MULTI.items()]
    expected += [single("mpr/volume.dcm", "/mpr", extract_views="true")]
    held = [r["sent"] for r in seen["fake"]["registered"]]
    assert sorted(held, key=json.dumps) == sorted(expected, key=json.dumps)
    sdk_registered = [line for run in seen["sdk"]["runs"] for line in run.get("registered", [])]
    assert len(sdk_registered) == len(held)


def test_extract_views_on_a_slot_other_than_0_is_refused_as_the_guide_says(seen: dict[str, Any]) -> None:
    # darwin-py's register(multi_slotted=True, multi_planar_view=True) marks every DICOM slot, and names slots
    # after their files; V7's guide: "The specified slot_name must be 0". We follow the guide (README).
    refused = seen["sdk"]["runs"][4]
    assert refused["refused"] == 400 and "extract_views needs slot_name" in refused["detail"]


def test_a_second_registration_comes_back_blocked_already_exists(seen: dict[str, Any]) -> None:
    again = seen["sdk"]["runs"][5]
    assert again["registered"] == []
    names = [k.rpartition("/")[2] for k in SINGLES]
    assert again["blocked"] == [f"Item {name} was blocked for the reason: ALREADY_EXISTS" for name in names]
