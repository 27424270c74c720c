"""The pure rules: media kinds, URLs, items, batching, objects files, outcomes and reports."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_ingest.core.batching import Limits, batch_items
from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.items import Item, Series, Skipped, make_items
from airflow_ingest.core.media import MediaKind, media_kind
from airflow_ingest.core.objects import StoredObject, read_objects, write_objects
from airflow_ingest.core.outcomes import ReportRow, ReportWriter
from airflow_ingest.core.urls import Scheme, darwin_storage_key, parse_source

SEED_KEY = "darwin/sub_folder/example_image.jpg"
PUBLIC = "11111111-1111-1111-1111-111111111111"
WHEN = datetime(2026, 11, 1, 12, 30, tzinfo=timezone.utc)


def obj(key: str, size: int = 10, url: str | None = None, container: str = "bucket") -> StoredObject:
    return StoredObject(url or f"s3://{container}/{key}", container, key, size, "etag", WHEN)


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("a/b/car_1.png", MediaKind.IMAGE),
        ("X.JPG", MediaKind.IMAGE),
        ("slide.svs", MediaKind.IMAGE),
        ("clip.MP4", MediaKind.VIDEO),
        ("doc.pdf", MediaKind.PDF),
        ("series/slice_1.dcm", MediaKind.DICOM),
        ("brain.nii", MediaKind.NIFTI),
        ("brain.NII.GZ", MediaKind.NIFTI),
        ("notes.txt", None),
        ("archive.gz", None),
        ("noextension", None),
        ("folder.png/readme", None),
        (".png", None),
    ],
)
def test_media_kind_from_suffix(key: str, kind: MediaKind | None) -> None:
    assert media_kind(key) == kind


@pytest.mark.parametrize(
    ("uri", "scheme", "container", "prefix"),
    [
        ("s3://example-bucket/darwin/sub_folder/", Scheme.S3, "example-bucket", "darwin/sub_folder/"),
        ("s3://example-bucket", Scheme.S3, "example-bucket", ""),
        ("S3://my.bucket.name/x", Scheme.S3, "my.bucket.name", "x"),
        ("gs://bucket/a", Scheme.GCS, "bucket", "a"),
        ("az://container/a/b", Scheme.AZURE, "container", "a/b"),
    ],
)
def test_parse_source(uri: str, scheme: Scheme, container: str, prefix: str) -> None:
    source = parse_source(uri)
    assert (source.scheme, source.container, source.prefix) == (scheme, container, prefix)


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("bucket/prefix", "use a URI like s3://bucket/prefix/"),
        ("ftp://host/x", "unknown scheme 'ftp'"),
        ("s3://Bad_Bucket/x", "not a valid S3 bucket name"),
        ("s3://ab/x", "not a valid S3 bucket name"),
        ("s3:///x", "not a valid S3 bucket name"),
        ("gs:///x", "names no bucket"),
    ],
)
def test_parse_source_rejects_with_a_fix(uri: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_source(uri)
    assert fragment in str(caught.value)
    assert caught.value.parameter == "source"


@pytest.mark.parametrize(
    ("url", "container", "key", "storage_key"),
    [
        # The seed's own examples (V7 registration guide, storage_key rules).
        ("s3://example-bucket/" + SEED_KEY, "example-bucket", SEED_KEY, SEED_KEY),
        ("gs://example-bucket/" + SEED_KEY, "example-bucket", SEED_KEY, SEED_KEY),
        ("az://mycontainer/darwin/sub_folder/myblob.jpg", "mycontainer", "darwin/sub_folder/myblob.jpg",
         "mycontainer/darwin/sub_folder/myblob.jpg"),
        ("s3://b/x/with space+plus#hash.png", "b", "x/with space+plus#hash.png", "x/with space+plus#hash.png"),
    ],
)  # fmt: skip
def test_darwin_storage_key(url: str, container: str, key: str, storage_key: str) -> None:
    assert darwin_storage_key(obj(key, url=url, container=container)) == storage_key
    assert not darwin_storage_key(obj(key, url=url, container=container)).startswith("/")


def test_file_layout_keeps_folders_and_skips_unsupported_with_a_reason() -> None:
    entries = list(make_items([obj("a/b/x.png"), obj("readme.txt"), obj("top.mp4")], "file"))
    assert isinstance(entries[0], Item)
    assert (entries[0].folder, entries[0].name, entries[0].id) == ("/a/b", "x.png", "/a/b/x.png")
    assert isinstance(entries[1], Skipped) and "unsupported file type" in entries[1].reason
    assert isinstance(entries[2], Item) and (entries[2].folder, entries[2].id) == ("/", "/top.mp4")


def test_objects_file_round_trip() -> None:
    objects = [obj(f"k/{i}.png", size=i) for i in range(5)] + [obj("ünï cødé/ x#?.png")]
    stream = io.BytesIO()
    summary = write_objects(objects, stream)
    assert (summary.count, summary.bytes) == (6, 10 + 10)
    stream.seek(0)
    assert list(read_objects(stream)) == objects


def items_of(sizes: list[int]) -> list[Item]:
    return [
        Item(f"{i}.png", "/", frozenset({MediaKind.IMAGE}), (Series(f"{i}.png", (obj(f"{i}.png", size),)),))
        for i, size in enumerate(sizes)
    ]


def test_batches_respect_entry_and_byte_limits() -> None:
    batches = list(batch_items(items_of([10] * 25), Limits(max_entries=10)))
    assert [b.entries for b in batches] == [10, 10, 5]
    assert [b.number for b in batches] == [1, 2, 3]
    batches = list(batch_items(items_of([40, 40, 40, 10, 10]), Limits(max_entries=10, max_bytes=100)))
    assert [b.bytes for b in batches] == [80, 60]


def test_an_oversize_item_gets_a_batch_of_its_own_and_is_flagged() -> None:
    batches = list(batch_items(items_of([10, 500, 10]), Limits(max_entries=10, max_bytes=100)))
    assert [(b.entries, b.bytes, b.oversize) for b in batches] == [(1, 10, False), (1, 500, True), (1, 10, False)]


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"max_entries": 0}, "max_entries"),
        ({"max_entries": -5}, "max_entries"),
        ({"max_entries": 10, "max_bytes": 0}, "max_bytes"),
        ({"max_entries": True}, "max_entries"),
    ],
)
def test_limits_reject_nonsense(kwargs: dict[str, int], parameter: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Limits(**kwargs)
    assert caught.value.parameter == parameter


@given(
    sizes=st.lists(st.integers(min_value=0, max_value=1000), max_size=300),
    max_entries=st.integers(min_value=1, max_value=50),
    max_bytes=st.one_of(st.none(), st.integers(min_value=1, max_value=3000)),
)
def test_batching_properties(sizes: list[int], max_entries: int, max_bytes: int | None) -> None:
    items = items_of(sizes)
    batches = list(batch_items(items, Limits(max_entries=max_entries, max_bytes=max_bytes)))
    flattened = [item for batch in batches for item in batch.items]
    assert flattened == items  # every item exactly once, in order
    for batch in batches:
        assert 1 <= batch.entries <= max_entries
        assert batch.bytes == sum(i.size for i in batch.items)
        if max_bytes is not None and batch.bytes > max_bytes:
            assert batch.entries == 1 and batch.oversize


def test_report_writer_streams_csv_and_json_with_totals() -> None:
    csv_out, json_out = io.StringIO(), io.StringIO()
    writer = ReportWriter(csv_out, json_out)
    rows = [
        ReportRow("/a.png", "s3://b/a.png", "darwin", "registered", "", False, 1),
        ReportRow("/b.png", "s3://b/b.png", "darwin", "blocked", "UNSUPPORTED, really", False, 1),
        ReportRow("/c.png", "s3://b/c.png", "darwin", "failed", "HTTP 503", True, 2),
    ]
    for row in rows:
        writer.add(row)
    totals = writer.close(run_id="r1")
    assert totals == {"registered": 1, "duplicate": 0, "blocked": 1, "failed": 1, "items": 3, "retryable": 1}
    document = json.loads(json_out.getvalue())
    assert document["totals"] == totals and document["run_id"] == "r1"
    assert [r["item"] for r in document["rows"]] == ["/a.png", "/b.png", "/c.png"]
    parsed = list(csv.DictReader(io.StringIO(csv_out.getvalue())))
    assert parsed[1]["reason"] == "UNSUPPORTED, really" and parsed[2]["retryable"] == "True"


@pytest.mark.parametrize("platform", ["darwin", "encord", "redbrick"])
def test_each_batch_reads_back_exactly_its_own_items_from_the_index(platform: str, tmp_path: Path) -> None:
    """Register tasks seek to their batch's lines; non-ASCII keys make byte offsets differ from characters."""
    from airflow_ingest.core.plan import INDEX, make_plan, path_opener, read_batch_index
    from airflow_ingest.platforms import manifest_builder

    target = {
        "darwin": {"dataset_slug": "d", "storage_slug": "s"},
        "encord": {"region": "eu-west-1"},
        "redbrick": {"storage_id": PUBLIC, "region": "eu-west-1"},
    }
    objects = [obj(f"scans/{name}_{i:03d}.png") for i in range(95) for name in ("ü", "plain", "日本")]
    objects.sort(key=lambda o: o.key)
    builder = manifest_builder(platform, target[platform])
    plan = make_plan(objects, builder, Limits(max_entries=7), path_opener(tmp_path))
    every = [json.loads(line) for line in (tmp_path / INDEX).read_text(encoding="utf-8").splitlines()]
    read = [entry for batch in plan.batches for entry in read_batch_index(tmp_path, batch)]
    assert read == every
    assert len(every) == 285
    assert [b.items for b in plan.batches] == [sum(1 for e in every if e["batch"] == n) for n in range(1, 42)]


def test_encord_json_is_written_as_the_spec_shapes_it() -> None:
    """The JSON spec is rendered as text; what it parses to must be exactly Encord's documented shape."""
    from airflow_ingest.platforms.encord.documents import ENTRIES, render_json

    entries = ENTRIES.validate_python(
        [
            {"section": "images", "title": 'a "quoted" ü.jpg', "urls": ["https://b/a.jpg"], "single": True,
             "create_video": None},
            {"section": "image_groups", "title": "seq", "urls": ["https://b/1.png", "https://b/2.png"],
             "single": False, "create_video": True},
            {"section": "dicom_series", "title": "ct", "urls": ["https://b/1.dcm"], "single": False,
             "create_video": None},
            {"section": "images", "title": "b.jpg", "urls": ["https://b/b.jpg"], "single": True, "create_video": None},
        ]
    )  # fmt: skip
    meta = {"site": "lyon", "nested": {"n": 1}}
    assert json.loads(render_json(entries, True, meta)) == {
        "images": [
            {"objectUrl": "https://b/a.jpg", "title": 'a "quoted" ü.jpg', "clientMetadata": meta},
            {"objectUrl": "https://b/b.jpg", "title": "b.jpg", "clientMetadata": meta},
        ],
        "image_groups": [
            {"title": "seq", "createVideo": True, "objectUrl_0": "https://b/1.png", "objectUrl_1": "https://b/2.png",
             "clientMetadata": meta},
        ],
        "dicom_series": [{"title": "ct", "objectUrl_0": "https://b/1.dcm", "clientMetadata": meta}],
        "skip_duplicate_urls": True,
    }  # fmt: skip
    plain = {"images": [{"objectUrl": "https://b/b.jpg", "title": "b.jpg"}]}
    assert json.loads(render_json(entries[3:], False)) == plain


def test_encord_csv_gathers_interleaved_types_into_one_block_each() -> None:
    from airflow_ingest.platforms.encord.documents import ENTRIES, render_csv

    def single(section: str, name: str) -> dict[str, object]:
        url = f"https://b/{name.replace(' ', '%20')}"
        return {"section": section, "title": name, "urls": [url], "single": True, "create_video": None}

    names = [("images", "1.jpg"), ("videos", "2.mp4"), ("images", "3, odd.jpg"), ("videos", "4.mp4")]
    entries = ENTRIES.validate_python([single(section, name) for section, name in names])
    assert render_csv(entries) == (
        'ObjectUrl,Image title\nhttps://b/1.jpg,1.jpg\n"https://b/3,%20odd.jpg","3, odd.jpg"\n'
        "ObjectUrl,Video title\nhttps://b/2.mp4,2.mp4\nhttps://b/4.mp4,4.mp4\n"
    )
