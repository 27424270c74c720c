"""Every key a bucket can legally hold, for every platform, layout and manifest format: never silently wrong.

S3 takes any UTF-8 key of up to 1,024 bytes; GCS the same without CR or LF (and not ``.`` or ``..``); Azure up
to 1,024 characters without control characters. For each, the plan must: never crash; put every object either
in an item whose platform reference (URL, V7 ``storage_key``, RedBrick items path) decodes to exactly its key,
or in ``skipped.jsonl`` with a reason; never give two items one identity the platform would merge (V7 path and
name, as V7 normalises folder paths; Encord title; RedBrick task name; our item id); and write Encord CSV and
JSON specs that read back (``csv``/``json``) to the same entries.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import IO, Any
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from urllib3.util import parse_url

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.items import Layout, natural_key
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.plan import make_plan
from airflow_ingest.core.urls import parse_source
from airflow_ingest.platforms import limits_for, manifest_builder
from airflow_ingest.platforms.redbrick.target import PUBLIC_STORAGE

WHEN = datetime(2026, 1, 1, tzinfo=timezone.utc)
STORAGE_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"

SOURCES = {"s3": "s3://bucket/", "gs": "gs://bucket/", "az": "az://container/"}
URL_PREFIX = {
    "s3": "https://bucket.s3.us-east-1.amazonaws.com/",
    "gs": "https://storage.cloud.google.com/bucket/",
    "az": "https://acct.blob.core.windows.net/container/",
}
LINKS = {"s3": {"region": "us-east-1"}, "gs": {}, "az": {"account": "acct"}}

# Pieces that make keys hostile: empty and dot segments, control characters, non-ASCII digits, look-alikes.
SEGMENTS = ["", ".", "..", "a", "b", "²", "٣", "10", "2", "\r", "\n", "a\rb", " ", "x.jpg", "x.dcm", "v.mp4", "~"]
NAMES = ["a.jpg", "b.png", "10.jpg", "2.jpg", "².jpg", "s.dcm", "1.dcm", "v.mp4", "n.nii.gz", "d.pdf", "r\r.jpg"]
NAMES += ["x.txt", "é.png", "\U0001d7d8.jpg", "a,b.jpg", 'q"q.jpg', "%41.jpg", "+ #?.jpg", "ǅ.jpg", "\x00.jpg", "x.jpg"]


def legal(cloud: str, key: str) -> bool:
    if not key or len(key.encode("utf-8")) > 1024:
        return False
    if cloud == "gs":
        return "\r" not in key and "\n" not in key and key not in (".", "..")
    if cloud == "az":
        return len(key) <= 1024 and not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in key)
    return True


@st.composite
def keys(draw: st.DrawFn) -> str:
    """A key built from hostile segments (or any text), sometimes very deep (Encord's 300-character titles)."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40))
    depth = draw(st.integers(0, 4))
    folders = draw(st.lists(st.sampled_from(SEGMENTS) | st.text(max_size=3), min_size=depth, max_size=depth))
    if draw(st.integers(0, 6)) == 0:
        folders.append("deep" * draw(st.integers(60, 250)))
    lead = "/" if draw(st.integers(0, 5)) == 0 else ""
    return lead + "/".join([*folders, draw(st.sampled_from(NAMES))])


def bucket(cloud: str, names: list[str]) -> list[StoredObject]:
    """The objects a listing would give: legal keys, unique, in key order (code point order is UTF-8 order)."""
    source = parse_source(SOURCES[cloud])
    chosen = sorted({k for k in names if legal(cloud, k) and not k.endswith("/")})
    return [
        StoredObject(source.object_url(k), source.container, k, 10 + n, f"etag{n}", WHEN) for n, k in enumerate(chosen)
    ]


class Folder:
    """An in-memory run folder: the plan's files by relative path."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}

    @contextmanager
    def open(self, relative: str) -> Iterator[IO[str]]:
        stream = io.StringIO()
        yield stream
        self.files[relative] = stream.getvalue()

    def lines(self, name: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.files.get(name, "").split("\n") if line]

    def manifests(self) -> list[str]:
        return [self.files[path] for path in sorted(self.files) if path.startswith("manifests/")]


def plan(
    objects: list[StoredObject], platform: str, target: dict[str, Any], layout: Layout, limits: Limits | None = None
) -> Folder:
    folder = Folder()
    builder = manifest_builder(platform, target)
    make_plan(objects, builder, limits or limits_for(platform), folder.open, layout=layout)
    return folder


def accounted(objects: list[StoredObject], folder: Folder) -> dict[str, str]:
    """Every object is in exactly one item or skipped with a reason; item ids are unique. Returns url -> item id."""
    skipped = folder.lines("skipped.jsonl")
    assert all(s["reason"] for s in skipped)
    index = folder.lines("items.jsonl")
    ids = [line["item"] for line in index]
    assert len(ids) == len(set(ids)), "two items share one id"
    owner = {o["url"]: line["item"] for line in index for o in line["objects"]}
    placed = [o["url"] for line in index for o in line["objects"]] + [s["url"] for s in skipped]
    assert sorted(placed) == sorted(o.url for o in objects)
    return owner


def decode(cloud: str, url: str) -> str:
    """The key a platform-facing URL names, as an HTTP client sends it (urllib3 resolves dot segments)."""
    prefix = URL_PREFIX[cloud]
    assert url.startswith(prefix), url
    assert parse_url(url).path == parse_url(prefix).path + url[len(prefix) :], f"a client would rewrite {url}"
    return unquote(url[len(prefix) :], errors="strict")


def by_url(objects: list[StoredObject]) -> dict[str, StoredObject]:
    return {o.url: o for o in objects}


def check_darwin(cloud: str, objects: list[StoredObject], layout: Layout) -> None:
    folder = plan(objects, "darwin", {"dataset_slug": "d", "storage_slug": "s"}, layout)
    owner = accounted(objects, folder)
    keys = {o.key: o for o in objects}
    seen: set[tuple[str, str]] = set()
    for text in folder.manifests():
        for item in json.loads(text)["items"]:
            # V7 normalises folder paths: items it would file under one (path, name) must never both be sent
            identity = (posixpath.normpath(item["path"]).replace("//", "/"), item["name"])
            assert identity not in seen, f"V7 would merge {identity}"
            seen.add(identity)
            files = item.get("slots") or [item]
            for file in files:
                storage_key = file["storage_key"]
                assert not storage_key.startswith("/")
                key = storage_key.split("/", 1)[1] if cloud == "az" else storage_key
                assert key in keys, f"storage_key {storage_key!r} names no listed object"
                assert owner[keys[key].url] == f"{item['path'].rstrip('/')}/{item['name']}"


def encord_entries(spec: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(section, title, urls) per JSON entry."""
    found = []
    for section, entries in spec.items():
        if section == "skip_duplicate_urls":
            continue
        for entry in entries:
            urls = (
                [entry["objectUrl"]]
                if "objectUrl" in entry
                else [entry[f"objectUrl_{n}"] for n in range(len(entry) - 1 - ("createVideo" in entry))]
            )
            found.append((section, entry["title"], tuple(urls)))
    return found


def csv_entries(text: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """The same (section, title, urls) from a CSV spec, rows of one title in one block making one entry."""
    sections = {"video title": "videos", "image title": "images", "image group title": "image_groups"}
    sections |= {"series title": "dicom_series", "nifti title": "nifti_files"}
    found: dict[tuple[str, str], list[str]] = {}
    section = ""
    for row in csv.reader(io.StringIO(text, newline="")):
        if row[0] == "ObjectUrl":
            section = sections[row[1].lower()]
            continue
        found.setdefault((section, row[1]), []).append(row[0])
    return [(s, t, tuple(urls)) for (s, t), urls in found.items()]


def check_encord(cloud: str, objects: list[StoredObject], layout: Layout) -> None:
    target = {**LINKS[cloud], "create_video": False}
    as_json = plan(objects, "encord", target, layout)
    as_csv = plan(objects, "encord", {**target, "format": "csv"}, layout)
    owner = accounted(objects, as_json)
    assert as_csv.files["skipped.jsonl"] == as_json.files["skipped.jsonl"]
    keys = {o.key: o for o in objects}
    titles: set[str] = set()
    for text, table in zip(as_json.manifests(), as_csv.manifests(), strict=True):
        entries = encord_entries(json.loads(text))
        for _section, title, urls in entries:
            assert 1 <= len(title) <= 300
            assert title not in titles, f"two Encord entries titled {title!r}"
            titles.add(title)
            items = {owner[keys[decode(cloud, url)].url] for url in urls}
            assert len(items) == 1, f"one entry holds the objects of {items}"
        by_entry = {(s, t): urls for s, t, urls in entries}
        assert {(s, t): u for s, t, u in csv_entries(table)} == by_entry


def check_redbrick(cloud: str, objects: list[StoredObject], layout: Layout, public: bool) -> None:
    target = {"storage_id": PUBLIC_STORAGE if public else STORAGE_ID, **LINKS[cloud]}
    folder = plan(objects, "redbrick", target, layout)
    owner = accounted(objects, folder)
    keys = {o.key: o for o in objects}
    names: set[str] = set()
    for text in folder.manifests():
        for task in json.loads(text):
            assert task["name"] not in names, f"two RedBrick tasks named {task['name']!r}"
            names.add(task["name"])
            paths = [p for s in task["series"] for p in ([s["items"]] if isinstance(s["items"], str) else s["items"])]
            for path in paths:
                key = decode(cloud, path) if public else path
                assert owner[keys[key].url] == "/" + task["name"]


CHECKS = ["darwin", "encord", "redbrick", "redbrick-public"]

hostile = [
    "/a.jpg",
    "a.jpg",
    "a//b.jpg",
    "a/./b.jpg",
    "a/b.jpg",
    "a/../b.jpg",
    "²/1.jpg",
    "²/2.jpg",
    "x.dcm",
    "x.dcm/1.dcm",
    "s/x.jpg",
    "s/x.jpg/1.jpg",
    "f/v.mp4",
    "f/v.mp4/1.jpg",
    "cr\r/a.jpg",
    "cr\rx.jpg",
    "deep/" * 80 + "v.mp4",
    "deep/" * 80 + "w.mp4",
    "t/y~0123456789ab.jpg",  # has "~" where a shortened title's mark goes: shortened too, so never equal to one
]


@pytest.mark.parametrize("cloud", sorted(SOURCES))
@pytest.mark.parametrize("layout", list(Layout))
@pytest.mark.parametrize("check", CHECKS)
@given(names=st.lists(keys(), max_size=12))
@example(names=hostile)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_every_legal_key_is_exact_or_skipped_with_a_reason(
    cloud: str, layout: Layout, check: str, names: list[str]
) -> None:
    objects = bucket(cloud, names)
    if check == "darwin":
        check_darwin(cloud, objects, layout)
    elif check == "encord":
        check_encord(cloud, objects, layout)
    else:
        check_redbrick(cloud, objects, layout, public=check == "redbrick-public")


def test_the_issues_examples_end_as_their_own_items_or_skipped() -> None:
    """The failures the issue names: each a crash, a merge or a wrong object before."""
    objects = bucket("s3", hostile)
    folder = plan(objects, "darwin", {"dataset_slug": "d", "storage_slug": "s"}, Layout.FILE)
    skipped = {s["url"]: s["reason"] for s in folder.lines("skipped.jsonl")}
    assert "cannot start" in skipped["s3://bucket//a.jpg"] or "empty path segment" in skipped["s3://bucket//a.jpg"]
    assert "empty path segment" in skipped["s3://bucket/a//b.jpg"]
    assert "'.' or '..'" in skipped["s3://bucket/a/./b.jpg"]
    sent = [i["storage_key"] for text in folder.manifests() for i in json.loads(text)["items"]]
    assert "a.jpg" in sent and "a/b.jpg" in sent and "/a.jpg" not in sent

    encord = plan(objects, "encord", {"region": "us-east-1", "format": "csv"}, Layout.FILE)
    titles = [t for text in encord.manifests() for _, t, _ in csv_entries(text)]
    long_titles = [t for t in titles if t.startswith("…")]
    assert len(long_titles) == 2 and len(set(long_titles)) == 2 and all(len(t) <= 300 for t in long_titles)
    assert "cr\rx.jpg" in titles  # one row, read back whole
    marked = [t for t in titles if t.startswith("t/y~0123456789ab.jpg~")]
    assert len(marked) == 1 and len(marked[0]) == len("t/y~0123456789ab.jpg") + 17

    folder_layout = plan(objects, "redbrick", {"storage_id": STORAGE_ID}, Layout.FOLDER)
    reasons = {s["url"]: s["reason"] for s in folder_layout.lines("skipped.jsonl")}
    assert "named like a file" in reasons["s3://bucket/x.dcm/1.dcm"]


def test_study_keeps_a_file_and_a_sub_folder_of_one_name_apart() -> None:
    objects = bucket("s3", ["s/x.jpg", "s/x.jpg/1.jpg", "s/x.jpg/2.jpg"])
    folder = plan(objects, "encord", {"region": "us-east-1"}, Layout.STUDY)
    entries = encord_entries(json.loads(folder.manifests()[0]))
    assert sorted(t for _, t, _ in entries) == ["s/x.jpg", "s/x.jpg/"]


@given(st.lists(st.text(st.characters(exclude_categories=["Cs"]), max_size=8), max_size=20))
@settings(max_examples=200, deadline=None)
def test_natural_order_sorts_any_names(names: list[str]) -> None:
    """Any names sort (``²`` is a digit to ``str.isdigit`` but no number), numbers by value, ties by exact text."""
    ordered = sorted(names, key=natural_key)
    assert sorted(ordered, key=natural_key) == ordered
    assert sorted(["10.png", "²", "2.png", "٣.png", "a²", "A.png", "a.png"], key=natural_key) == [
        "2.png",
        "٣.png",
        "10.png",
        "A.png",
        "a.png",
        "a²",
        "²",
    ]
