"""RedBrick items lists never hold a multi-file NIfTI or video series, for any layout or form (issue 15).

RedBrick's guide (shared/seeds/000): "``items`` must be a single string for NIfTI uploads"; a series is "a
single volume, image, or video" (redbrick-sdk's ``Series``), so a list of items is a DICOM series' instances
or a video's frames, never several volumes or video files. A brain-MRI folder with t1, t2 and flair becomes
one task with one series per volume.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_ingest.core.items import Item, Layout, make_items
from airflow_ingest.platforms.redbrick.documents import RedBrickManifests
from airflow_ingest.platforms.redbrick.target import RedBrickTarget
from tests.fakes.redbrick_rules import check_task
from tests.unit.test_core import obj

STORAGE = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
SINGLE_FILE = (".nii", ".nii.gz", ".mp4", ".mov", ".avi", ".mkv")  # a series of its own, whatever the layout
SUFFIXES = [".dcm", ".nii", ".nii.gz", ".mp4", ".mov", ".png", ".jpg", ".NII.GZ", ".MP4", ".txt"]


def tasks_of(keys: list[str], layout: Layout, form: str) -> tuple[list[Item], list[dict[str, Any]]]:
    builder = RedBrickManifests(RedBrickTarget(storage_id=STORAGE, form=form))  # type: ignore[arg-type]
    items = [e for e in make_items([obj(k) for k in sorted(keys)], layout) if isinstance(e, Item)]
    kept = [i for i in items if builder.refuse(i) is None]
    return kept, [dict(builder.task(i)) for i in kept]


def paths_of(task: dict[str, Any]) -> list[str]:
    if "items" in task:
        return list(task["items"])
    return [p for s in task["series"] for p in ([s["items"]] if isinstance(s["items"], str) else s["items"])]


def single_file(path: str) -> bool:
    return path.lower().endswith(SINGLE_FILE)


NAME = st.sampled_from(["p1", "p2", "s", "t1", "scan", "v"])
TREE = st.lists(
    st.builds(
        lambda folders, stem, suffix: "/".join([*folders, stem + suffix]),
        st.lists(NAME, min_size=0, max_size=3),
        st.sampled_from(["t1", "t2", "flair", "001", "2", "10", "clip"]),
        st.sampled_from(SUFFIXES),
    ),
    min_size=1,
    max_size=25,
    unique=True,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(keys=TREE, layout=st.sampled_from(list(Layout)), form=st.sampled_from(["series", "flat"]))
def test_no_series_lists_a_nifti_volume_or_a_video_among_other_files(
    keys: list[str], layout: Layout, form: str
) -> None:
    items, tasks = tasks_of(keys, layout, form)
    assert len(tasks) == len(items)  # one task per item: splitting happens inside a task, never across
    for item, task in zip(items, tasks, strict=True):
        assert sorted(paths_of(task)) == sorted(o.key for o in item.objects)  # every file once, none lost
        for part in task.get("series", []):
            if isinstance(part["items"], list):
                assert len(part["items"]) >= 2 and not any(single_file(p) for p in part["items"]), part
        if "items" in task:  # the flat form lists NIfTI volumes (each a series for RedBrick), never videos
            assert len(task["items"]) == 1 or not any(p.lower().endswith((".mp4", ".mov")) for p in task["items"])
        assert check_task(0, task, STORAGE, {}) is None, task  # and the fake's reading of the guide agrees
    json.dumps(tasks)


BRAIN = ["p1/flair.nii.gz", "p1/t1.nii.gz", "p1/t2.nii.gz"]
ONE_PER_VOLUME = [{"items": k} for k in BRAIN]


@pytest.mark.parametrize(
    ("keys", "layout", "form", "expected"),
    [
        (BRAIN, Layout.FOLDER, "series",
         [{"name": "p1", "series": ONE_PER_VOLUME}]),
        (["s/" + k for k in BRAIN], Layout.STUDY, "series",
         [{"name": "s", "series": [{"items": "s/p1/flair.nii.gz"}, {"items": "s/p1/t1.nii.gz"},
                                   {"items": "s/p1/t2.nii.gz"}]}]),
        (BRAIN, Layout.STUDY, "series",
         [{"name": "p1", "series": ONE_PER_VOLUME}]),
        (BRAIN, Layout.FILE, "series", [{"name": k, "series": [{"items": k}]} for k in BRAIN]),
        (BRAIN, Layout.FOLDER, "flat", [{"name": "p1", "items": BRAIN}]),
        (["v/a.mp4", "v/b.mp4"], Layout.FOLDER, "flat",
         [{"name": "v", "series": [{"items": "v/a.mp4"}, {"items": "v/b.mp4"}]}]),
        (["v/1.png", "v/2.png", "v/10.png"], Layout.FOLDER, "series",
         [{"name": "v", "series": [{"items": ["v/1.png", "v/2.png", "v/10.png"]}]}]),
    ],
    ids=["folder", "study-series-folder", "study-files", "file", "flat-nifti", "flat-videos", "frames-stay-a-list"],
)  # fmt: skip
def test_brain_mri_folder_is_one_task_with_a_series_per_volume(
    keys: list[str], layout: Layout, form: str, expected: list[dict[str, Any]]
) -> None:
    assert tasks_of(keys, layout, form)[1] == expected
