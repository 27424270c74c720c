"""Layouts and plans over random trees: nothing lost, nothing doubled, limits kept, order kept."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.items import Item, Layout, Skipped, make_items, natural_key
from airflow_ingest.core.media import MediaKind
from airflow_ingest.core.plan import make_plan
from airflow_ingest.platforms import limits_for, manifest_builder
from tests.unit.test_core import obj


def items_of(keys: list[str], layout: str, prefix: str = "") -> list[Item | Skipped]:
    return list(make_items([obj(k) for k in sorted(keys)], layout, prefix))


def test_natural_order() -> None:
    names = ["10.png", "2.png", "1.png", "frame_100.jpg", "frame_20.jpg", "B.png", "a.png"]
    assert sorted(names, key=natural_key) == [
        "1.png",
        "2.png",
        "10.png",
        "a.png",
        "B.png",
        "frame_20.jpg",
        "frame_100.jpg",
    ]


def test_folder_layout_groups_each_folder_and_keeps_nested_folders_apart() -> None:
    entries = items_of(["F/a.png", "F/b/1.png", "F/b/10.png", "F/b/2.png", "F/c.png", "root.png", "F/x.txt"], "folder")
    items = {e.id: e for e in entries if isinstance(e, Item)}
    assert [o.key for o in items["/F"].objects] == ["F/a.png", "F/c.png"]
    assert [o.key for o in items["/F/b"].objects] == ["F/b/1.png", "F/b/2.png", "F/b/10.png"]
    assert items["/root.png"].single and not items["/F"].single
    assert [e.object.key for e in entries if isinstance(e, Skipped)] == ["F/x.txt"]


def test_study_layout_makes_series_of_sub_folders_and_of_loose_files() -> None:
    keys = ["p/s1/se2/1.dcm", "p/s1/se1/2.dcm", "p/s1/se1/10.dcm", "p/s1/loose.nii", "p/s2/a.dcm", "p/top.dcm"]
    entries = items_of(keys, "study", prefix="p/")
    studies = {e.id: e for e in entries if isinstance(e, Item)}
    assert [(s.name, [o.key for o in s.objects]) for s in studies["/p/s1"].series] == [
        ("loose.nii", ["p/s1/loose.nii"]),
        ("se1", ["p/s1/se1/2.dcm", "p/s1/se1/10.dcm"]),
        ("se2", ["p/s1/se2/1.dcm"]),
    ]
    assert studies["/p/s1"].kinds == {MediaKind.DICOM, MediaKind.NIFTI}
    skipped = [e for e in entries if isinstance(e, Skipped)]
    assert [s.object.key for s in skipped] == ["p/top.dcm"] and "study folder" in skipped[0].reason


def test_an_unknown_layout_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="use one of file, folder, study"):
        items_of(["a.png"], "flat")


def test_mixed_items_are_refused_by_encord_with_a_reason_but_kept_by_darwin() -> None:
    items = [e for e in items_of(["m/a.png", "m/b.mp4"], "folder") if isinstance(e, Item)]
    encord = manifest_builder("encord", {"region": "us-east-1"})
    assert "mixes image, video" in (encord.refuse(items[0]) or "")
    darwin = manifest_builder("darwin", {"dataset_slug": "d", "storage_slug": "s"})
    assert darwin.refuse(items[0]) is None


# --- properties over random trees --------------------------------------------------------------------------

SEGMENT = st.sampled_from(["a", "b", "c", "scan 1", "ü", "10", "2"])
NAME = st.tuples(st.sampled_from(["x", "frame_", "IMG", "s"]), st.integers(0, 30), st.sampled_from(
    [".png", ".jpg", ".dcm", ".nii.gz", ".mp4", ".pdf", ".txt", ".JSON"]
)).map(lambda t: f"{t[0]}{t[1]}{t[2]}")  # fmt: skip
KEY = st.tuples(st.lists(SEGMENT, max_size=3), NAME).map(lambda t: "/".join([*t[0], t[1]]))
TREE = st.lists(KEY, max_size=120, unique=True)


@contextmanager
def _sink(files: dict[str, str], name: str) -> Iterator[IO[str]]:
    buffer = io.StringIO()
    yield buffer
    files[name] = buffer.getvalue()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    keys=TREE,
    layout=st.sampled_from(list(Layout)),
    platform=st.sampled_from(["darwin", "encord", "redbrick"]),
    max_entries=st.integers(1, 7),
    max_bytes=st.one_of(st.none(), st.integers(1, 60)),
)
def test_every_object_lands_once_in_an_item_and_a_batch_or_in_skipped(
    keys: list[str], layout: Layout, platform: str, max_entries: int, max_bytes: int | None
) -> None:
    objects = [obj(k, size=len(k)) for k in sorted(keys)]
    target = {
        "darwin": {"dataset_slug": "d", "storage_slug": "s"},
        "encord": {"region": "us-east-1"},
        "redbrick": {"storage_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"},
    }[platform]
    builder = manifest_builder(platform, target)
    files: dict[str, str] = {}
    plan = make_plan(
        objects, builder, limits_for(platform, max_entries, max_bytes), lambda n: _sink(files, n), layout=layout
    )

    skipped = [json.loads(line)["url"] for line in files["skipped.jsonl"].splitlines()]
    placed: list[str] = []
    seen_items: set[str] = set()
    lines = [json.loads(line) for line in files["items.jsonl"].splitlines()]
    for number, batch in enumerate(plan.batches, start=1):
        index = [line for line in lines if line["batch"] == number]
        for entry in index:
            assert entry["item"] not in seen_items  # item names are unique within a run
            seen_items.add(entry["item"])
            urls = [o["url"] for o in entry["objects"]]
            placed += urls
        sizes = sum(o["size"] for e in index for o in e["objects"])
        assert sizes == batch.bytes
        within = batch.entries <= max_entries and (max_bytes is None or batch.bytes <= max_bytes)
        assert within or (len(index) == 1 and batch.oversize)
    assert sorted(placed + skipped) == sorted(o.url for o in objects)  # exactly once, nothing lost
    assert len(placed) == len(set(placed)) and not set(placed) & set(skipped)
    assert plan.objects == len(objects) and plan.skipped_count == len(skipped)


@given(keys=TREE, layout=st.sampled_from(list(Layout)))
def test_order_is_kept_and_stable(keys: list[str], layout: Layout) -> None:
    first = items_of(keys, layout.value)
    again = items_of(list(reversed(keys)), layout.value)  # the listing is sorted either way
    assert [e.id if isinstance(e, Item) else e.object.key for e in first] == [
        e.id if isinstance(e, Item) else e.object.key for e in again
    ]
    for entry in first:
        if isinstance(entry, Item):
            for series in entry.series:
                names = [o.key[len(entry.id) :] for o in series.objects] if not entry.single else []
                assert names == sorted(names, key=natural_key)
