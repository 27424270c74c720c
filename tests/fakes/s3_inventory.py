"""S3 Inventory reports written as S3 writes them, for tests and benchmarks to read back.

The layout and formats are AWS's (Amazon S3 User Guide, "Locating your inventory list" and "Amazon S3
Inventory list"): ``<prefix>/<source-bucket>/<config-id>/<YYYY-MM-DDTHH-MMZ>/manifest.json`` with
``manifest.checksum`` (the manifest's MD5 in hex) beside it, data files under ``<prefix>/<source-bucket>/
<config-id>/data/``; CSV files gzipped without a header, every field quoted, keys form-URL-encoded (space as
``+``, as Java's ``URLEncoder``), columns in ``fileSchema`` order; Parquet and ORC with snake_case columns and
raw keys, ``last_modified_date`` a millisecond timestamp. Rows are written in no particular order (shuffled),
as S3 gives no order either.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

CSV_FIELDS = ("Bucket", "Key", "VersionId", "IsLatest", "IsDeleteMarker", "Size", "LastModifiedDate", "ETag")
COLUMNS = ("bucket", "key", "version_id", "is_latest", "is_delete_marker", "size", "last_modified_date", "e_tag")


@dataclass(frozen=True)
class Row:
    key: str
    size: int | None
    etag: str | None
    last_modified: datetime
    version_id: str = ""
    is_latest: bool = True
    is_delete_marker: bool = False


def encode_key(key: str) -> str:
    """A key as S3 Inventory writes it in CSV: ``java.net.URLEncoder``'s form encoding of its UTF-8."""
    return quote_plus(key, safe="*-._")


def csv_gz(bucket: str, rows: Iterable[Row]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for row in rows:
        stamp = row.last_modified.strftime("%Y-%m-%dT%H:%M:%S.") + f"{row.last_modified.microsecond // 1000:03d}Z"
        writer.writerow(
            [
                bucket,
                encode_key(row.key),
                row.version_id,
                str(row.is_latest).lower(),
                str(row.is_delete_marker).lower(),
                "" if row.size is None else str(row.size),
                stamp,
                row.etag or "",
            ]
        )
    return gzip.compress(text.getvalue().encode("utf-8"), compresslevel=5)


def table(bucket: str, rows: list[Row]) -> Any:
    import pyarrow as pa

    return pa.table(
        {
            "bucket": pa.array([bucket] * len(rows), pa.string()),
            "key": pa.array([r.key for r in rows], pa.string()),
            "version_id": pa.array([r.version_id or None for r in rows], pa.string()),
            "is_latest": pa.array([r.is_latest for r in rows], pa.bool_()),
            "is_delete_marker": pa.array([r.is_delete_marker for r in rows], pa.bool_()),
            "size": pa.array([r.size for r in rows], pa.int64()),
            "last_modified_date": pa.array([r.last_modified for r in rows], pa.timestamp("ms", tz="UTC")),
            "e_tag": pa.array([r.etag for r in rows], pa.string()),
        }
    )


def data_file(fmt: str, bucket: str, rows: list[Row]) -> bytes:
    """One data file's bytes in ``fmt`` (``CSV``, ``Parquet`` or ``ORC``)."""
    if fmt == "CSV":
        return csv_gz(bucket, rows)
    sink = io.BytesIO()
    if fmt == "Parquet":
        from pyarrow import parquet

        parquet.write_table(table(bucket, rows), sink, compression="snappy")
    else:
        from pyarrow import orc

        orc.write_table(table(bucket, rows), sink)
    return sink.getvalue()


def schema(fmt: str) -> str:
    if fmt == "CSV":
        return ", ".join(CSV_FIELDS)
    return (
        "message s3.inventory { required binary bucket (UTF8); required binary key (UTF8); optional binary "
        "version_id (UTF8); optional boolean is_latest; optional boolean is_delete_marker; optional int64 size; "
        "optional int64 last_modified_date (TIMESTAMP_MILLIS); optional binary e_tag (UTF8);}"
    )


def report(
    source_bucket: str,
    destination_bucket: str,
    base: str,
    fmt: str,
    rows: list[Row],
    *,
    stamp: str = "2026-12-01T01-00Z",
    files: int = 3,
    seed: int = 0,
) -> Iterator[tuple[str, bytes]]:
    """``(key, bytes)`` of every object of one report under ``base`` (``prefix/source-bucket/config-id/``)."""
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    extension = {"CSV": "csv.gz", "Parquet": "parquet", "ORC": "orc"}[fmt]
    entries = []
    for number in range(files):
        part = shuffled[number::files]
        body = data_file(fmt, source_bucket, part)
        key = f"{base}data/{stamp}-{number:04d}.{extension}"
        entries.append({"key": key, "size": len(body), "MD5checksum": hashlib.md5(body).hexdigest()})
        yield key, body
    manifest = json.dumps(
        {
            "sourceBucket": source_bucket,
            "destinationBucket": f"arn:aws:s3:::{destination_bucket}",
            "version": "2016-11-30",
            "creationTimestamp": "1796086800000",
            "fileFormat": fmt,
            "fileSchema": schema(fmt),
            "files": entries,
        },
        indent=2,
    ).encode()
    yield f"{base}{stamp}/manifest.json", manifest
    yield f"{base}{stamp}/manifest.checksum", hashlib.md5(manifest).hexdigest().encode()


def rows_from_listing(objects: Iterable[Any]) -> list[Row]:
    """The report S3 would write for a bucket whose LIST gives ``objects`` (StoredObjects)."""
    return [Row(o.key, o.size, o.etag, o.last_modified) for o in objects]


def write_local(folder: Path, objects: Iterable[tuple[str, bytes]]) -> None:
    for key, body in objects:
        path = folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
