"""Label Studio tasks: any key becomes a task pointing at exactly that object, or is skipped with a reason.

Label Studio resolves a task's ``s3://`` (``gs://``, ``azure-blob://``) value through the project's storage: it
strips the value, parses it with ``urlparse(url, allow_fragments=False)`` and takes the path without its leading
slashes as the key (``io_storages/utils.py`` and ``resolve_s3_url`` in label-studio 1.23). :func:`resolved`
repeats that, and a browser then fetches the signed URL, resolving dot segments.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from airflow_ingest.core.batching import Batch, Limits
from airflow_ingest.core.items import Layout, make_items
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.plan import make_plan
from airflow_ingest.core.urls import dot_segment
from airflow_ingest.platforms.labelstudio.documents import (
    MARKER,
    LabelStudioManifests,
    ObjectTag,
    fit_tasks,
    object_tags,
)
from airflow_ingest.platforms.labelstudio.target import LabelStudioTarget
from tests.unit.test_keys_property import WHEN, Folder, accounted, bucket, keys

SCHEMES = {"s3": "s3", "gs": "gs", "az": "azure-blob"}
CONTAINERS = {"s3": "bucket", "gs": "bucket", "az": "container"}


def resolved(value: str) -> tuple[str, str, str]:
    """(scheme, bucket, key) as Label Studio reads a task's URL."""
    uri = value.strip()
    parsed = urlparse(uri, allow_fragments=False)
    return parsed.scheme, parsed.netloc, parsed.path.lstrip("/")


def builder(**target: Any) -> LabelStudioManifests:
    return LabelStudioManifests(LabelStudioTarget.model_validate(target))


def planned(objects: list[StoredObject], layout: Layout) -> Folder:
    folder = Folder()
    make_plan(objects, builder(), Limits(max_entries=50), folder.open, layout=layout)
    return folder


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cloud=st.sampled_from(["s3", "gs", "az"]), names=st.lists(keys(), min_size=1, max_size=25))
@example(cloud="s3", names=["q?x.png", "/lead.png", "trail.png ", "a/./b.png", "a\tb.png", "ok é+#%.png"])
@example(cloud="az", names=["pct%41.png", "hash#x.png", "ok.png"])
def test_any_key_is_a_task_naming_exactly_that_object_or_skipped(cloud: str, names: list[str]) -> None:
    objects = bucket(cloud, names)
    by_url = {o.url: o for o in objects}
    folder = planned(objects, Layout.FILE)
    owner = accounted(objects, folder)
    tasks = [task for text in folder.manifests() for task in json.loads(text)]
    index = folder.lines("items.jsonl")
    assert len(tasks) == len(index)
    markers = [t["data"][MARKER] for t in tasks]
    assert len(set(markers)) == len(markers), "two items share one marker"
    for task, line in zip(tasks, index, strict=True):
        obj = by_url[line["objects"][0]["url"]]
        assert owner[obj.url] == task["meta"][MARKER]["item"]
        value = next(v for k, v in task["data"].items() if k != MARKER)
        assert resolved(value) == (SCHEMES[cloud], CONTAINERS[cloud], obj.key), f"{obj.key!r} -> {value!r}"
        assert dot_segment(obj.key) is None, "a browser would fetch another object"
        if cloud == "az":
            assert not set("%#\\") & set(obj.key)


def objects_of(*keys: str) -> list[StoredObject]:
    return [StoredObject(f"s3://b/{k}", "b", k, 10, f"e{n}", WHEN) for n, k in enumerate(keys)]


def test_a_folder_of_images_is_one_task_with_a_list_in_natural_order() -> None:
    folder = planned(objects_of("scan/1.png", "scan/10.png", "scan/2.png"), Layout.FOLDER)
    [task] = json.loads(folder.manifests()[0])
    assert task["data"]["images"] == ["s3://b/scan/1.png", "s3://b/scan/2.png", "s3://b/scan/10.png"]
    assert task["meta"][MARKER] == {"item": "/scan", "kind": "image", "list": True}


@pytest.mark.parametrize(
    ("keys", "layout", "reason"),
    [
        (["a.dcm"], Layout.FILE, "is dicom: Label Studio has no tag"),
        (["v/a.mp4", "v/b.mp4"], Layout.FOLDER, "only images go in a list"),
        (["m/a.png", "m/b.mp4"], Layout.FOLDER, "mixes image, video"),
        (["s/x/1.png", "s/y/1.png"], Layout.STUDY, "has 2 series"),
    ],
)
def test_items_a_task_cannot_hold_are_skipped_with_the_reason(keys: list[str], layout: Layout, reason: str) -> None:
    folder = planned(objects_of(*keys), layout)
    skipped = folder.lines("skipped.jsonl")
    assert skipped and all(reason in s["reason"] for s in skipped)


def test_local_files_are_refused() -> None:
    obj = StoredObject("file:///data/a.png", "/data", "a.png", 1, "e", WHEN)
    [item] = list(make_items([obj], Layout.FILE))
    assert "local file" in (builder().refuse(item) or "")  # type: ignore[arg-type]


def test_the_target_data_key_is_written_as_given() -> None:
    [item] = list(make_items(objects_of("a.png"), Layout.FILE))
    text = builder(data_key="$photo").render(Batch(1, [item], 10, 1))  # type: ignore[list-item]
    assert json.loads(text)[0]["data"]["photo"] == "s3://b/a.png"


CONFIG = """<View>
  <Image name="img" value="$picture"/><Image name="many" valueList="$pages"/>
  <Text name="t" value="$caption"/><Video name="v" value="$clip"/>
</View>"""


def test_object_tags_reads_values_and_value_lists() -> None:
    assert object_tags(CONFIG) == [
        ObjectTag("Image", "picture", False, True),
        ObjectTag("Image", "pages", True, True),
        ObjectTag("Text", "caption", False, False),
        ObjectTag("Video", "clip", False, True),
    ]
    assert object_tags("<View><oops") == []


def task(key: str, kind: str = "image", listed: bool = False) -> dict[str, Any]:
    return {"data": {key: "s3://b/x", MARKER: "m"}, "meta": {MARKER: {"item": "/x", "kind": kind, "list": listed}}}


def test_fit_renames_to_the_one_tag_of_the_kind_and_refuses_what_the_config_cannot_show() -> None:
    tags = object_tags(CONFIG)
    fitted, refused = fit_tasks([task("image"), task("images", listed=True), task("pdf", "pdf")], tags, None)
    assert [next(iter(t["data"])) for t in fitted] == ["picture", "pages"]
    assert list(refused) == [2] and "no tag that shows a pdf file" in refused[2] and "$picture" in refused[2]


def test_fit_with_a_fixed_key_checks_the_config_reads_it_by_url() -> None:
    tags = object_tags(CONFIG)
    assert fit_tasks([task("clip", "video")], tags, "clip")[1] == {}
    assert "reads no $nope" in fit_tasks([task("nope")], tags, "nope")[1][0]
    assert "does not take a image file by URL" in fit_tasks([task("caption")], tags, "caption")[1][0]


def test_several_tags_of_one_kind_ask_for_a_data_key() -> None:
    tags = object_tags('<View><Image name="a" value="$a"/><Image name="b" value="$b"/></View>')
    assert "set the target's data_key" in fit_tasks([task("image")], tags, None)[1][0]
    assert fit_tasks([task("b")], tags, None)[1] == {}


def test_target_refuses_a_bad_data_key() -> None:
    with pytest.raises(ValueError, match="data_key"):
        LabelStudioTarget.model_validate({"data_key": "a b"})
    assert LabelStudioTarget.model_validate({"data_key": " $photo "}).data_key == "photo"
