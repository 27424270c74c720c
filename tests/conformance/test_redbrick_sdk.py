"""redbrick-sdk's own flow against the fake RedBrick over HTTP, fed our items lists; then our hook, same lists.

For each pinned release (2.28.7, 2.35.4, ``requirements/redbrick-*.txt``): ``redbrick.get_project()`` and
``project.upload.create_datapoints()`` run in the SDK's venv; the fake must end up holding exactly the tasks the
SDK reports created. The items lists are what ``airflow_ingest.core.redbrick`` plans for a bucket of brain-MRI
volumes, DICOM series, frames and videos under every layout, in both forms. Then ``register_batch`` sends the
same list and every ``createDatapoint`` variable of ours is compared with the SDK's: the differences are listed
in ``KNOWN_DIFFERENCES`` with the document's verdict (none today).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_ingest.core.items import Item, make_items
from airflow_ingest.platforms.redbrick.answers import VALIDATION_CHUNK
from airflow_ingest.platforms.redbrick.documents import RedBrickManifests
from airflow_ingest.platforms.redbrick.hook import RedBrickHook
from airflow_ingest.platforms.redbrick.register import register_batch
from airflow_ingest.platforms.redbrick.target import RedBrickTarget
from tests.conformance.sdk import run_sdk
from tests.fakes.redbrick import FakeRedBrick
from tests.unit.test_core import obj

pytestmark = pytest.mark.slow

SDKS = {"redbrick-2.28": ("2.28.7", 50), "redbrick-2.35": ("2.35.4", 10)}
"""venv -> (release, tasks per validation call: ``create_datapoints``' default ``concurrency``)."""

OPERATIONS = {
    "redbrick-2.28": {"sdkGetProjectNameSDK", "sdkGetStagesSDK", "getTaxonomySDK", "getLabelStorageSDK"},
    # 2.35's project lookup carries the stages and the whole taxonomy, so it asks for neither separately.
    "redbrick-2.35": {"getProjectSDK", "getLabelStorageSDK"},
}
CALLS = {"validateAndConvertToImportFormatSDK", "createDatapointSDK"}

BUCKET = {
    "file": [*(f"file/img_{i:02d}.png" for i in range(12)), "file/p1/t1.nii.gz", "file/clip.mp4"],
    "folder": [
        *("folder/brain/flair.nii.gz", "folder/brain/t1.nii.gz", "folder/brain/t2.nii.gz"),
        *("folder/ct/1.dcm", "folder/ct/2.dcm", "folder/ct/10.dcm", "folder/frames/1.png", "folder/frames/2.png"),
        *("folder/clips/a.mp4", "folder/clips/b.mp4"),
    ],
    "study": [
        *("study/pat1/mri/flair.nii.gz", "study/pat1/mri/t1.nii.gz", "study/pat1/mri/t2.nii.gz"),
        *("study/pat2/ct/1.dcm", "study/pat2/ct/2.dcm", "study/pat2/scout.dcm", "study/pat3/a.mp4", "study/pat3/b.mp4"),
    ],
}
"""Key prefix = the layout planned under it, so task names never collide across layouts."""

KNOWN_DIFFERENCES: dict[str, str] = {}
"""``createDatapoint`` variable -> why ours differs from the SDK's and which one RedBrick's documents support."""


def our_items_list(form: str) -> list[dict[str, Any]]:
    builder = RedBrickManifests(RedBrickTarget(storage_id=FakeRedBrick.STORAGE_ID, form=form))  # type: ignore[arg-type]
    tasks: list[dict[str, Any]] = []
    for layout, keys in BUCKET.items():
        for entry in make_items([obj(k) for k in sorted(keys)], layout, prefix=f"{layout}/"):
            assert isinstance(entry, Item) and builder.refuse(entry) is None
            tasks.append(dict(builder.task(entry)))
    return tasks


def listed(series: dict[str, Any]) -> list[str]:
    return [series["items"]] if isinstance(series["items"], str) else list(series["items"])


def flat_paths(task: dict[str, Any]) -> list[str]:
    return list(task["items"]) if "items" in task else [p for s in task["series"] for p in listed(s)]


def sdk_upload(redbrick: FakeRedBrick, sdk: str, tasks: list[dict[str, Any]], tmp_path: Path) -> dict[str, Any]:
    points = tmp_path / "points.json"
    points.write_text(json.dumps(tasks))
    url = redbrick.url.replace("127.0.0.1", "localhost")  # the SDK keeps http:// only for localhost
    args = (url, FakeRedBrick.ORG_ID, FakeRedBrick.PROJECT_ID, FakeRedBrick.STORAGE_ID, str(points))
    env = {"REDBRICK_API_KEY": FakeRedBrick.API_KEY, "HOME": str(tmp_path)}
    return dict(run_sdk(sdk, "redbrick_upload.py", *args, env=env))


def validation_sizes(redbrick: FakeRedBrick) -> list[int]:
    requests = redbrick.state()["requests"]
    return [len(r["names"]) for r in requests if r["op"] == "validateAndConvertToImportFormatSDK" and "names" in r]


@pytest.mark.parametrize("form", ["series", "flat"])
@pytest.mark.parametrize("sdk", list(SDKS))
def test_the_sdk_registers_our_items_lists_and_our_hook_sends_what_it_sends(
    redbrick: FakeRedBrick, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sdk: str, form: str
) -> None:
    release, chunk = SDKS[sdk]
    tasks = our_items_list(form)
    out = sdk_upload(redbrick, sdk, tasks, tmp_path)
    assert out["version"] == release and out["project"] == "project 1" and out["stages"] == ["Label"]

    # Every task created, and the fake holds exactly the SDK's tasks.
    results = out["results"]
    assert [r["name"] for r in results] == [t["name"] for t in tasks]
    assert all("response" in r and "error" not in r for r in results), [r for r in results if "response" not in r]
    held = {t["name"]: t for t in redbrick.tasks()}
    assert sorted(held) == sorted(r["name"] for r in results)
    for ours, result in zip(tasks, results, strict=True):
        task = held[result["name"]]
        assert (task["taskId"], task["dpId"]) == (result["response"]["taskId"], result["response"]["dpId"])
        assert task["items"] == flat_paths(ours)  # every file, in our order
        if "series" in ours:  # one series per series of ours (a volume or a video each: one item)
            assert [len(s["itemsIndices"]) for s in task["seriesInfo"]] == [len(listed(s)) for s in ours["series"]]
        if "items" in result:  # 2.28 returns each point as sent to createDatapoint; 2.35 only name and response
            indices = [s["itemsIndices"] for s in result.get("seriesInfo") or []]
            assert (result["items"], indices) == (task["items"], [s["itemsIndices"] for s in task["seriesInfo"] or []])

    # The calls it made, and its validation chunks (ours are never larger than the current release's).
    ops = {r["op"] for r in redbrick.state()["requests"]}
    assert ops == OPERATIONS[sdk] | CALLS
    sizes = validation_sizes(redbrick)  # in any order: the SDK sends its chunks concurrently
    assert sorted(sizes) == sorted(min(chunk, len(tasks) - start) for start in range(0, len(tasks), chunk))
    sdk_variables = {name: task["variables"] for name, task in held.items()}

    # Our hook, same items list, fresh project: the same createDatapoint variables, chunks of at most 10.
    redbrick.reset()
    monkeypatch.setenv("AIRFLOW_CONN_REDBRICK_CONFORMANCE", redbrick.conn())
    hook = RedBrickHook("redbrick_conformance", max_attempts=2, wait_initial=0.05, wait_max=1)
    outcomes = register_batch(hook, json.dumps(tasks), FakeRedBrick.PROJECT_ID, FakeRedBrick.STORAGE_ID)
    assert {o.outcome.value for o in outcomes} == {"registered"}
    assert max(validation_sizes(redbrick)) <= VALIDATION_CHUNK <= chunk
    ours = {t["name"]: t["variables"] for t in redbrick.tasks()}
    assert sorted(ours) == sorted(sdk_variables)
    differences = {
        field
        for name in ours
        for field in set(ours[name]) | set(sdk_variables[name])
        if ours[name].get(field) != sdk_variables[name].get(field)
    }
    assert differences == set(KNOWN_DIFFERENCES), {
        f: [(n, ours[n].get(f), sdk_variables[n].get(f)) for n in ours][:2] for f in differences
    }


@pytest.mark.parametrize("sdk", list(SDKS))
def test_the_sdk_uploads_nothing_when_a_series_lists_several_nifti_volumes(
    redbrick: FakeRedBrick, tmp_path: Path, sdk: str
) -> None:
    """What our planner used to write for a t1/t2/flair folder: RedBrick refuses the validation chunk, and the
    SDK then creates no task at all (it only logs a warning), which is why the planner must never write it."""
    volumes = ["p1/flair.nii.gz", "p1/t1.nii.gz", "p1/t2.nii.gz"]
    tasks = [{"name": "p1", "series": [{"items": volumes}]}, {"name": "x", "series": [{"items": "x.png"}]}]
    out = sdk_upload(redbrick, sdk, tasks, tmp_path)
    assert out["results"] == [] and redbrick.tasks() == []
    assert validation_sizes(redbrick) == [2]
