"""Encord's CSV spec written as text is byte for byte what the csv writer wrote, quoting included."""

from __future__ import annotations

import csv
import io
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_ingest.core.batching import Batch
from airflow_ingest.core.items import Item, Series, make_items, one_kind_no_pdf
from airflow_ingest.core.media import MediaKind
from airflow_ingest.platforms.encord.documents import _CSV_TITLES, EncordManifests, Entry, render_csv
from airflow_ingest.platforms.encord.target import EncordTarget
from tests.unit.test_core import obj


def reference(entries: list[Entry]) -> str:
    """render_csv as it was: every row through the csv writer (a row with a carriage return fully quoted)."""
    with_create_video = any(entry["section"] == "image_groups" for entry in entries)
    extra = ("Create video",) if with_create_video else ()
    blocks: dict[str, list[tuple[str, ...]]] = {}
    for entry in entries:
        rows = blocks.setdefault(entry["section"], [("ObjectUrl", _CSV_TITLES[entry["section"]], *extra)])
        flag = ("true" if entry["create_video"] else "false",) if with_create_video else ()
        rows.extend((url, entry["title"], *flag) for url in entry["urls"])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for rows in blocks.values():
        for row in rows:
            (quoted if any("\r" in field for field in row) else writer).writerow(row)
    return out.getvalue()


def read_back(text: str) -> list[tuple[str, ...]]:
    """The rows a CSV reader sees (header lines included)."""
    return [tuple(row) for row in csv.reader(io.StringIO(text, newline=""))]


texts = st.text(alphabet=st.sampled_from(list('ab/:., "\n\r\tü😀')), min_size=1, max_size=12)


@st.composite
def entries(draw: st.DrawFn) -> Entry:
    section = draw(st.sampled_from(list(_CSV_TITLES)))
    group = section in ("image_groups", "dicom_series")
    return {
        "section": section,  # type: ignore[typeddict-item]
        "title": draw(texts),
        "urls": draw(st.lists(texts, min_size=1, max_size=3 if group else 1)),
        "single": not group,
        "create_video": draw(st.booleans()) if section == "image_groups" else None,
    }


@given(st.lists(entries(), max_size=12))
@settings(max_examples=300, deadline=None)
def test_text_rendering_is_the_csv_writers_output(batch: list[Entry]) -> None:
    text = render_csv(batch)
    assert text == reference(batch)
    rows = [row for row in read_back(text) if row[0] != "ObjectUrl"]
    # read back to the same rows (grouped by type): a comma, quote, CR or LF in a field never splits a row
    assert sorted(row[:2] for row in rows) == sorted((url, e["title"]) for e in batch for url in e["urls"])


@pytest.mark.parametrize(
    ("title", "written"),
    [
        ("cam/a.jpg", "cam/a.jpg"),
        ("a, b.jpg", '"a, b.jpg"'),
        ('say "hi".jpg', '"say ""hi"".jpg"'),
        ("two\nlines.jpg", '"two\nlines.jpg"'),
        ("cr\r.jpg", None),  # a lone carriage return: the row is fully quoted, so readers keep it one row
    ],
)
def test_fields_are_quoted_as_the_csv_module_quotes_them(title: str, written: str | None) -> None:
    batch: list[Entry] = [
        {"section": "images", "title": title, "urls": ["https://b/x.jpg"], "single": True, "create_video": None},
        {"section": "image_groups", "title": "g", "urls": ["https://b/g/1.jpg"], "single": False, "create_video": True},
    ]
    text = render_csv(batch)
    assert text == reference(batch)
    assert read_back(text)[1] == ("https://b/x.jpg", title, "false")
    if written is not None:
        assert text == (
            f"ObjectUrl,Image title,Create video\nhttps://b/x.jpg,{written},false\n"
            "ObjectUrl,Image group title,Create video\nhttps://b/g/1.jpg,g,true\n"
        )


def test_a_csv_plan_batch_renders_through_validation() -> None:
    builder = EncordManifests(EncordTarget(format="csv", region="us-east-1"))
    items = [
        Item("a, b.png", "/", frozenset({MediaKind.IMAGE}), (Series("a, b.png", (obj("a, b.png"),)),)),
        Item("v.mp4", "/", frozenset({MediaKind.VIDEO}), (Series("v.mp4", (obj("v.mp4"),)),)),
    ]
    entries = [entry for item in items for entry in builder.entries(item)]
    assert render_csv(entries) == reference(entries)
    assert '"a, b.png"' in render_csv(entries)


def test_refuse_agrees_with_the_shared_rule_for_every_mix_of_kinds() -> None:
    builder = EncordManifests(EncordTarget())
    for size in (1, 2, 3):
        for kinds in combinations(MediaKind, size):
            item = Item("x", "/", frozenset(kinds), (Series("x", (obj("x.png"),)),))
            assert builder.refuse(item) == one_kind_no_pdf(item, "an Encord entry")


@pytest.mark.parametrize("layout", ["file", "folder", "study"])
@pytest.mark.parametrize("create_video", [False, True])
def test_a_batch_builds_the_entries_its_items_give(layout: str, create_video: bool) -> None:
    keys = ["s/a/1.png", "s/a/2.png", "s/b/x.dcm", "s/b/y.dcm", "s/c.mp4", "s/d/v.nii.gz", "top.png", "t/q, r.jpg"]
    items = [i for i in make_items([obj(k) for k in sorted(keys)], layout) if isinstance(i, Item)]
    builder = EncordManifests(EncordTarget(format="csv", region="us-east-1", create_video=create_video))
    items = [i for i in items if builder.refuse(i) is None]
    batch = Batch(1, items)
    assert builder._batch_entries(batch) == [entry for item in items for entry in builder.entries(item)]
    assert builder.render(batch) == reference(builder._batch_entries(batch))
