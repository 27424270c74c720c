"""Listing from an S3 Inventory report on moto: the same object stream as a LIST of the bucket, filters included.

Reports are written in S3's own format (tests/fakes/s3_inventory.py) from the bucket's LIST, plus the rows a
versioned bucket's report adds (older versions, delete markers), and read back through ``list_objects``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_ingest.core.errors import StorageError
from airflow_ingest.core.filters import Filters
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.urls import parse_source
from airflow_ingest.storage.listing import list_objects
from tests.fakes.s3_inventory import Row, report, rows_from_listing
from tests.harness import AirflowHome, FakeDarwin, MotoS3

SOURCE = "inventory-source"
DEST = "inventory-dest"
HOSTILE = [
    "a b/c d.png",
    "plus+sign/1+1=2.jpg",
    "percent/100%25 sure%.dcm",
    "ünïcödé/日本語 ファイル.png",
    "line\nbreak/x\r\ny.png",
    'quote"comma,/tab\t.png',
    "many/?#&=;~*'()!$@.png",
    "emoji/🙂.jpg",
    "folder/",
    "x/y/z/deep.nii.gz",
    "x/y.png",
    "xy/a.png",
    "x",
]
KEYS = HOSTILE + [f"bulk/{i:03d}/{'frame' if i % 3 else 'scan'}_{i}.{('png', 'dcm', 'mp4')[i % 3]}" for i in range(150)]


@pytest.fixture(scope="module")
def reports(s3: MotoS3) -> dict[str, str]:
    """The bucket, and one report location per format (each with an older, different report beside it)."""
    client = s3.client()
    s3.seed(SOURCE, [(k, (len(k.encode()) * 37) % 5000 if not k.endswith("/") else 0) for k in KEYS])
    s3.seed(DEST, [])
    with pytest.MonkeyPatch.context() as patch:  # module scope: the LIST below goes through the hook
        patch.setenv("AIRFLOW_CONN_AWS_DEFAULT", s3.conn())
        listed = list(list_objects(parse_source(f"s3://{SOURCE}/")))
    marker = [o for o in _raw_listing(client) if o.key == "folder/"]
    rows = rows_from_listing(listed + marker)
    old = rows[0].last_modified - timedelta(days=3)
    versions = [Row(r.key, r.size + 1, "0" * 32, old, "v-old", is_latest=False) for r in rows[::5]]
    deleted = [Row(f"deleted/{i}.png", None, None, old, f"dm{i}", is_delete_marker=True) for i in range(7)]
    deleted += [Row(f"deleted/{i}.png", 10, "1" * 32, old, f"v{i}", is_latest=False) for i in range(7)]
    locations: dict[str, str] = {}
    for fmt in ("CSV", "Parquet", "ORC"):
        base = f"reports/{SOURCE}/daily-{fmt.lower()}/"
        older = [Row(r.key, r.size, r.etag, r.last_modified) for r in rows[:10]]
        objects = list(report(SOURCE, DEST, base, fmt, older, stamp="2026-11-30T01-00Z"))
        objects += report(SOURCE, DEST, base, fmt, rows + versions + deleted, stamp="2026-12-01T01-00Z")
        for key, body in objects:
            client.put_object(Bucket=DEST, Key=key, Body=body)
        locations[fmt] = f"s3://{DEST}/{base}"
    return locations


def _raw_listing(client: object) -> list:  # type: ignore[type-arg]
    from airflow_ingest.core.objects import StoredObject

    page = client.list_objects_v2(Bucket=SOURCE, Prefix="folder/")  # type: ignore[attr-defined]
    return [
        StoredObject(f"s3://{SOURCE}/{m['Key']}", SOURCE, m["Key"], m["Size"], m["ETag"].strip('"'), m["LastModified"])
        for m in page.get("Contents", [])
    ]


def lines(objects: object) -> list[str]:
    """The objects as ``airflow-ingest ls`` prints them."""
    return [json.dumps(o.to_json(), ensure_ascii=False, separators=(", ", ": ")) for o in objects]  # type: ignore[attr-defined]


@pytest.mark.usefixtures("connections")
@pytest.mark.parametrize("fmt", ["CSV", "Parquet", "ORC"])
def test_the_inventory_stream_is_the_listing_stream(reports: dict[str, str], fmt: str) -> None:
    source = parse_source(f"s3://{SOURCE}/")
    listed = lines(list_objects(source))
    assert len(listed) == len(KEYS) - 1  # the folder marker is not data
    assert lines(list_objects(source, inventory=reports[fmt])) == listed
    # a dated folder or the manifest itself name the same report
    dated = reports[fmt] + "2026-12-01T01-00Z/"
    assert lines(list_objects(source, inventory=dated)) == listed
    assert lines(list_objects(source, inventory=dated + "manifest.json")) == listed


@pytest.mark.usefixtures("connections")
def test_sorted_runs_spooled_to_disk_merge_back_in_key_order(reports: dict[str, str]) -> None:
    from airflow_ingest.storage.s3_inventory import list_inventory

    source = parse_source(f"s3://{SOURCE}/")
    merged = list_inventory(source, reports["Parquet"], filters=None, run_objects=7)
    assert lines(merged) == lines(list_objects(source))


PREFIXES = st.sampled_from(["", "x", "x/", "x/y", "bulk/0", "bulk/01", "a b/", "ü", "line\n", "plus+", "percent/1"])
GLOBS = st.sampled_from(["**/*.png", "*", "bulk/**/scan_*", "**/*[0-9].dcm", "x/**", "**/* *", "**/*+*"])
SIZES = st.none() | st.integers(0, 5000)


LISTED: dict[str, list[StoredObject]] = {}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fmt=st.sampled_from(["CSV", "Parquet"]),
    prefix=PREFIXES,
    include=st.lists(GLOBS, max_size=2),
    exclude=st.lists(GLOBS, max_size=1),
    min_size=SIZES,
    max_size=SIZES,
    since_days=st.none() | st.integers(-2, 2),
)
@pytest.mark.usefixtures("connections")
def test_any_prefix_and_filters_give_the_listing_stream(
    reports: dict[str, str],
    fmt: str,
    prefix: str,
    include: list[str],
    exclude: list[str],
    min_size: int | None,
    max_size: int | None,
    since_days: int | None,
) -> None:
    if min_size is not None and max_size is not None and min_size > max_size:
        min_size, max_size = max_size, min_size
    source = parse_source(f"s3://{SOURCE}/{prefix}")
    if prefix not in LISTED:  # a LIST per prefix; list_objects applies filters to the listed objects after it
        LISTED[prefix] = list(list_objects(source))
    since = (
        None
        if since_days is None
        else LISTED[prefix][0].last_modified + timedelta(seconds=since_days)
        if LISTED[prefix]
        else None
    )
    filters = Filters(tuple(include), tuple(exclude), min_size, max_size, since)
    expected = lines(o for o in LISTED[prefix] if filters.accepts(o))
    assert lines(list_objects(source, filters=filters, inventory=reports[fmt])) == expected


def put(client: object, key: str, body: bytes) -> None:
    client.put_object(Bucket=DEST, Key=key, Body=body)  # type: ignore[attr-defined]


@pytest.mark.usefixtures("connections")
def test_bad_reports_are_one_line_errors_naming_the_value_and_the_fix(s3: MotoS3, reports: dict[str, str]) -> None:
    client = s3.client()
    source = parse_source(f"s3://{SOURCE}/")

    def error(inventory: str, where: object = source) -> str:
        with pytest.raises(StorageError) as caught:
            list(list_objects(where, inventory=inventory))  # type: ignore[arg-type]
        message = str(caught.value)
        assert "\n" not in message
        return message

    assert "no YYYY-MM-DDTHH-MMZ/manifest.json" in error(f"s3://{DEST}/reports/nothing-here/")
    other = error(reports["CSV"], parse_source("s3://some-other-bucket/"))
    assert "of bucket 'inventory-source', not 'some-other-bucket'" in other and "<config-id>" in other
    assert "does not exist" in error("s3://no-such-inventory-bucket/reports/")
    assert "use s3://destination-bucket" in error("gs://x/y/")
    assert "give an s3:// source" in error(reports["CSV"], parse_source("gs://bucket/"))

    base = f"reports/{SOURCE}/broken/"
    manifest = json.dumps({"sourceBucket": SOURCE, "fileFormat": "Avro", "fileSchema": "", "files": []}).encode()
    put(client, base + "2026-12-02T01-00Z/manifest.json", manifest)
    put(client, base + "2026-12-02T01-00Z/manifest.checksum", b"0" * 32)
    assert "manifest.checksum says 000" in error(f"s3://{DEST}/{base}")
    put(client, base + "2026-12-02T01-00Z/manifest.checksum", hashlib.md5(manifest).hexdigest().encode())
    assert "fileFormat 'Avro' is not one of CSV, Parquet, ORC" in error(f"s3://{DEST}/{base}")

    lean = f"reports/{SOURCE}/lean/"
    objects = dict(report(SOURCE, DEST, lean, "CSV", [], files=1))
    key = next(k for k in objects if k.endswith("manifest.json"))
    document = json.loads(objects[key])
    document["fileSchema"] = "Bucket, Key, Size"
    objects[key] = json.dumps(document).encode()
    objects[key.replace(".json", ".checksum")] = hashlib.md5(objects[key]).hexdigest().encode()
    for name, body in objects.items():
        put(client, name, body)
    assert "no last_modified_date, e_tag column" in error(f"s3://{DEST}/{lean}")

    cut = f"reports/{SOURCE}/cut/"
    objects = dict(report(SOURCE, DEST, cut, "Parquet", [Row("k", 1, "e", _when())], files=1))
    for name, body in objects.items():
        put(client, name, body[:-10] if name.endswith(".parquet") else body)
    assert "the file was altered or cut short" in error(f"s3://{DEST}/{cut}")


def _when():  # type: ignore[no-untyped-def]
    from datetime import datetime, timezone

    return datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_cli_ls_prints_the_same_lines_from_the_inventory(s3: MotoS3, reports: dict[str, str]) -> None:
    import os
    import subprocess

    from tests.harness import BIN

    env = {**os.environ, "AIRFLOW_CONN_AWS_DEFAULT": s3.conn()}

    def ls(*args: str) -> subprocess.CompletedProcess[str]:
        command = [str(BIN / "airflow-ingest"), "ls", f"s3://{SOURCE}/x", "--glob", "**/*.png", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)

    listed, inventoried = ls(), ls("--inventory", reports["CSV"])
    assert listed.returncode == 0 and inventoried.returncode == 0, inventoried.stderr
    assert inventoried.stdout == listed.stdout and len(listed.stdout.splitlines()) == 2
    wrong = ls("--inventory", f"s3://{DEST}/reports/nothing/")
    assert wrong.returncode == 1 and wrong.stderr.strip().splitlines()[-1].startswith("airflow-ingest: error:")


@pytest.mark.slow
def test_ingest_manual_lists_from_the_inventory_and_plans_the_same_items(
    airflow_home: AirflowHome, s3: MotoS3, darwin: FakeDarwin
) -> None:
    """The DAG's form option, end to end: the list task writes the LIST's objects, read from the report."""
    from airflow_ingest.core.objects import read_objects

    bucket = "inventory-dag"
    s3.seed(DEST, [])
    s3.seed(bucket, [(f"dry/{i:03d} {'ü' if i % 2 else '+'}.jpg", 10 + i) for i in range(40)])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_CONN_AWS_DEFAULT", s3.conn())
        listed = list(list_objects(parse_source(f"s3://{bucket}/dry/")))
    client = s3.client()
    for key, body in report(bucket, DEST, f"dag/{bucket}/nightly/", "CSV", rows_from_listing(listed)):
        client.put_object(Bucket=DEST, Key=key, Body=body)

    conf = {"source": f"s3://{bucket}/dry/", "dry_run": True, "inventory": f"s3://{DEST}/dag/{bucket}/nightly/"}
    run = airflow_home.dags_test("ingest_manual", conf)

    assert run.state == "success", run.output[-3000:]
    folder = run.group_dir("darwin")
    with (folder / "objects.jsonl.gz").open("rb") as stream:
        assert lines(read_objects(stream)) == lines(listed)
    assert json.loads((folder / "listing.json").read_text())["inventory"] == conf["inventory"]
    assert json.loads((run.run_dir / "plan.json").read_text())["items"] == 40
