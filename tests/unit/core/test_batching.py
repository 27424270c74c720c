"""Batches count what is written (entries and the manifest's own bytes) and split what the document lets them."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_ingest.core.batching import Limits, batch_items
from airflow_ingest.core.items import Item, Layout, make_items
from airflow_ingest.core.plan import Plan, make_plan, path_opener
from airflow_ingest.platforms import limits_for, manifest_builder
from airflow_ingest.platforms.encord.documents import EncordManifests
from airflow_ingest.platforms.encord.target import MAX_DOCUMENT_BYTES, EncordTarget
from tests.unit.test_core import obj
from tests.unit.test_keys_property import Folder, accounted, encord_entries

TARGET = {"region": "us-east-1"}


def test_encord_limits_include_the_documents_100_mb() -> None:
    assert limits_for("encord").max_document_bytes == MAX_DOCUMENT_BYTES == 100_000_000
    assert limits_for("encord", max_entries=5).max_document_bytes == MAX_DOCUMENT_BYTES
    assert limits_for("darwin").max_document_bytes is None


@pytest.mark.parametrize("form", ["json", "csv"])
def test_a_folder_of_12000_videos_is_split_across_specs_not_one_oversize_spec(tmp_path: Path, form: str) -> None:
    objects = [obj(f"clips/{n:05d}.mp4", 1000) for n in range(12_000)]
    plan = make_plan(
        objects,
        manifest_builder("encord", {**TARGET, "format": form}),
        limits_for("encord"),
        path_opener(tmp_path),
        layout=Layout.FOLDER,
    )
    assert [b.entries for b in plan.batches] == [10_000, 2_000]
    assert not any(b.oversize for b in plan.batches) and plan.skipped_count == 0
    assert plan.objects == plan.items == 12_000  # each video is its own item: its own report row
    if form == "json":
        spec = json.loads((tmp_path / plan.batches[1].path).read_text(encoding="utf-8"))
        assert spec["videos"][0]["title"] == "clips/10000.mp4"  # the title the unsplit folder gave it


def test_a_folder_of_videos_over_the_byte_limit_is_split_by_bytes(tmp_path: Path) -> None:
    objects = [obj(f"clips/{n}.mp4", 600) for n in range(10)]
    plan = make_plan(
        objects, manifest_builder("encord", TARGET), Limits(100, 1000), path_opener(tmp_path), layout=Layout.FOLDER
    )
    assert [b.bytes for b in plan.batches] == [600] * 10 and not any(b.oversize for b in plan.batches)


def test_a_study_over_the_entry_limit_is_split_by_series(tmp_path: Path) -> None:
    objects = [obj(f"s/se{n:02d}/1.dcm") for n in range(7)]
    plan = make_plan(
        objects, manifest_builder("encord", TARGET), Limits(3), path_opener(tmp_path), layout=Layout.STUDY, prefix=""
    )
    assert [b.entries for b in plan.batches] == [3, 3, 1] and plan.skipped_count == 0
    titles = [t for b in plan.batches for _, t, _ in encord_entries(json.loads((tmp_path / b.path).read_text()))]
    assert titles == [f"s/se{n:02d}" for n in range(7)]  # as the whole study titles its series


def test_client_metadata_is_counted_in_every_entry_and_memory_stays_at_one_document(tmp_path: Path) -> None:
    """100 objects each carrying ~100 KB of clientMetadata under a 1 MB document limit (the 10 MB / 100 MB case
    scaled down): every spec stays under the limit, and memory stays near one spec, not the total."""
    metadata = {"notes": "x" * 100_000}
    builder = EncordManifests(EncordTarget(region="us-east-1", client_metadata=metadata))
    objects = [obj(f"img/{n:03d}.jpg") for n in range(100)]
    tracemalloc.start()
    try:
        plan = make_plan(objects, builder, Limits(10_000, None, 1_000_000), path_opener(tmp_path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    sizes = [(tmp_path / b.path).stat().st_size for b in plan.batches]
    assert sum(b.entries for b in plan.batches) == 100 and len(plan.batches) >= 10
    assert max(sizes) <= 1_000_000 and sum(sizes) > 10_000_000  # ten times the limit written, in pieces
    assert peak < 5_000_000  # a few documents' worth, never the 10 MB total


def test_an_item_no_document_can_hold_is_skipped_with_a_reason_and_a_warning(tmp_path: Path) -> None:
    objects = [obj(f"g/{n:04d}.jpg") for n in range(500)] + [obj("h/1.jpg")]  # one image group: one entry
    plan = make_plan(
        objects,
        manifest_builder("encord", TARGET),
        Limits(10, None, 20_000),
        path_opener(tmp_path),
        layout=Layout.FOLDER,
    )
    assert plan.items == 1 and plan.skipped_count == 500
    assert all("bytes of manifest" in s["reason"] and s["reason"].startswith("item /g ") for s in plan.skipped)
    assert len(plan.rejected) == 1 and plan.rejected[0].startswith("item /g needs about")
    assert Plan.from_json(json.loads((tmp_path / "plan.json").read_text())).rejected == plan.rejected


def test_the_written_text_is_measured_even_when_an_estimate_is_too_low(tmp_path: Path) -> None:
    class Underestimating(EncordManifests):
        def weigh(self, item: Item) -> tuple[int, int]:
            return 1, 1

    builder = Underestimating(EncordTarget(region="us-east-1", client_metadata={"n": "x" * 3000}))
    objects = [obj(f"i/{n:02d}.jpg") for n in range(40)]
    plan = make_plan(objects, builder, Limits(100, None, 10_000), path_opener(tmp_path))
    sizes = [(tmp_path / b.path).stat().st_size for b in plan.batches]
    assert max(sizes) <= 10_000 and sum(b.items for b in plan.batches) == 40
    assert [b.path for b in plan.batches] == [f"manifests/batch-{n:05d}.json" for n in range(1, len(sizes) + 1)]


@given(
    sizes=st.lists(st.integers(1, 50), min_size=1, max_size=40),
    entries=st.integers(1, 6),
    max_bytes=st.integers(20, 120),
    max_document=st.integers(300, 3000),
)
@settings(max_examples=150, deadline=None)
@pytest.mark.parametrize("layout", [Layout.FOLDER, Layout.STUDY])
def test_batches_keep_every_limit_and_lose_nothing(
    layout: Layout, sizes: list[int], entries: int, max_bytes: int, max_document: int
) -> None:
    """Random folders of images, videos and DICOM series: every object lands once (item or skip), every batch
    within its limits, whatever must be split or rejected."""
    suffixes = ["jpg", "mp4", "dcm"]
    objects = [obj(f"f{n % 3}/s{n % 2}/{n:03d}.{suffixes[n % 3]}", size) for n, size in enumerate(sizes)]
    objects.sort(key=lambda o: o.key)
    folder = Folder()
    limits = Limits(entries, max_bytes, max_document)
    plan = make_plan(objects, manifest_builder("encord", TARGET), limits, folder.open, layout=layout)
    accounted(objects, folder)
    for info, text in zip(plan.batches, folder.manifests(), strict=True):
        assert info.entries <= entries and len(text.encode()) <= max_document
        assert info.bytes <= max_bytes or (info.oversize and info.items == 1)


def test_batch_items_without_a_document_measure_behaves_as_before() -> None:
    items = [e for e in make_items([obj(f"{n}.png", 10) for n in range(25)], "file") if isinstance(e, Item)]
    assert [b.entries for b in batch_items(items, Limits(10, None, 1))] == [10, 10, 5]
