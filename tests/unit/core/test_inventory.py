"""S3 Inventory rows read back as StoredObjects: URL-encoded CSV keys and raw Parquet keys, any text at all."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_ingest.core.errors import StorageError
from airflow_ingest.core.inventory import batch_objects, column_name, newest_dated_folder, parse_manifest, read_batches
from tests.fakes.s3_inventory import Row, data_file, encode_key, report

KEYS = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40)
WHEN = datetime(2026, 11, 30, 12, 0, 1, 123000, tzinfo=timezone.utc)


def read(tmp: Path, fmt: str, rows: list[Row], prefix: str = "") -> list[tuple[str, int, str, datetime]]:
    objects = dict(report("src", "dst", "inv/src/cfg/", fmt, rows, files=1))
    manifest_key = next(k for k in objects if k.endswith("manifest.json"))
    checksum = objects[manifest_key.replace(".json", ".checksum")]
    manifest = parse_manifest(objects[manifest_key], manifest_key, checksum)
    path = tmp / f"data-{fmt}"
    path.write_bytes(objects[manifest.files[0].key])
    out = []
    for batch in read_batches(path, manifest, "data"):
        for o in batch_objects(
            batch, container="src", prefix=prefix, url_prefix=None, url_encoded=fmt == "CSV", where="data"
        ):
            assert o.url == f"s3://src/{o.key}" and o.container == "src"
            out.append((o.key, o.size, o.etag, o.last_modified))
    return sorted(out)


@settings(max_examples=60, deadline=None)
@given(keys=st.lists(KEYS, min_size=1, max_size=12, unique=True), fmt=st.sampled_from(["CSV", "Parquet", "ORC"]))
def test_any_key_survives_the_report_round_trip(
    tmp_path_factory: pytest.TempPathFactory, keys: list[str], fmt: str
) -> None:
    tmp = tmp_path_factory.mktemp("rows")
    rows = [Row(k, i, f"{i:032x}", WHEN + timedelta(seconds=i)) for i, k in enumerate(keys)]
    expected = sorted((r.key, r.size, r.etag, r.last_modified) for r in rows)
    assert read(tmp, fmt, rows) == expected
    prefix = keys[0][:2]
    assert read(tmp, fmt, rows, prefix) == [e for e in expected if e[0].startswith(prefix)]


def test_csv_keys_are_form_encoded_and_decoded_back() -> None:
    assert encode_key("a b+c%/ü") == "a+b%2Bc%25%2F%C3%BC"


@pytest.mark.parametrize("fmt", ["CSV", "Parquet"])
def test_only_latest_versions_that_are_not_delete_markers_count(tmp_path: Path, fmt: str) -> None:
    rows = [
        Row("kept", 1, "a", WHEN, "v2"),
        Row("kept", 9, "old", WHEN, "v1", is_latest=False),
        Row("gone", None, None, WHEN, "dm", is_delete_marker=True),
        Row("gone", 3, "b", WHEN, "v0", is_latest=False),
    ]
    assert read(tmp_path, fmt, rows) == [("kept", 1, "a", WHEN)]


def test_a_current_row_without_a_size_is_an_error_not_a_zero(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="has no size, last-modified time or ETag"):
        read(tmp_path, "Parquet", [Row("k", None, "e", WHEN)])


def test_a_damaged_file_is_named(tmp_path: Path) -> None:
    objects = dict(report("src", "dst", "inv/", "Parquet", [Row("k", 1, "e", WHEN)], files=1))
    key = next(k for k in objects if k.endswith("manifest.json"))
    manifest = parse_manifest(objects[key], key, None)
    path = tmp_path / "bad"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(StorageError, match=r"cannot read the inventory file s3://dst/f: it is not a valid Parquet"):
        list(read_batches(path, manifest, "s3://dst/f"))


def test_manifest_checks() -> None:
    body = json.dumps({"sourceBucket": "b", "fileFormat": "csv", "fileSchema": "Bucket, Key", "files": []}).encode()
    with pytest.raises(StorageError, match=r"manifest\.checksum says"):
        parse_manifest(body, "m", b"abc")
    with pytest.raises(StorageError, match="no size, last_modified_date, e_tag column"):
        parse_manifest(body, "m", hashlib.md5(body).hexdigest().encode())
    with pytest.raises(StorageError, match="not an S3 Inventory manifest"):
        parse_manifest(b"[]", "m", None)
    assert column_name("LastModifiedDate") == "last_modified_date" and column_name(" ETag") == "e_tag"
    assert newest_dated_folder(["hive", "2026-11-30T01-00Z", "2026-12-01T01-00Z", "data"]) == "2026-12-01T01-00Z"
    assert newest_dated_folder(["hive", "data"]) is None


def test_an_empty_csv_file_has_no_rows(tmp_path: Path) -> None:
    objects = dict(report("src", "dst", "inv/", "CSV", [], files=1))
    key = next(k for k in objects if k.endswith("manifest.json"))
    manifest = parse_manifest(objects[key], key, None)
    path = tmp_path / "empty"
    path.write_bytes(data_file("CSV", "src", []))
    assert list(read_batches(path, manifest, "x")) == []
