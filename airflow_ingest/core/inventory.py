"""S3 Inventory reports read as the objects a LIST would give: the manifest, then each data file's rows.

A bucket of tens of millions of objects costs a LIST call per thousand keys every night; S3 Inventory writes
the same facts (key, size, ETag, last-modified) as CSV, Parquet or ORC files once a day or week. This module
is the pure part: it checks a report's ``manifest.json`` against its ``manifest.checksum``, names its columns
and turns the data files' rows into :class:`StoredObject`s exactly as the S3 lister builds them (raw key,
unquoted ETag, aware UTC time), keeping only the latest version of each key and no delete markers. Sorting
the rows into key order and fetching the files are the storage's (:mod:`airflow_ingest.storage.s3_inventory`).

The formats, as AWS documents them: CSV files are gzipped, have no header row and take their columns from the
manifest's ``fileSchema`` (``Bucket, Key, Size, LastModifiedDate, ETag, ...``), with keys URL-encoded as a
form is (a space is ``+``, a ``+`` is ``%2B``); Parquet and ORC files name their columns themselves
(``bucket, key, size, last_modified_date, e_tag, ...``) and keep keys raw.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import repeat
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from airflow_ingest.core.errors import StorageError
from airflow_ingest.core.objects import StoredObject

FORMATS = ("CSV", "Parquet", "ORC")
REQUIRED = ("key", "size", "last_modified_date", "e_tag")
"""Columns an inventory needs to stand in for a listing: Size, Last modified and ETag are optional fields of an
inventory configuration, so a report may lack them."""

DATED_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}Z")
"""The folder S3 writes each report's manifest to: the time the report's scan started."""

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


@dataclass(frozen=True)
class ReportFile:
    key: str
    size: int
    md5: str


@dataclass(frozen=True)
class Manifest:
    where: str
    source_bucket: str
    file_format: str
    columns: tuple[str, ...]
    """The CSV files' columns in order, as Parquet names them (``last_modified_date``); empty for Parquet/ORC."""
    files: tuple[ReportFile, ...]


def column_name(field: str) -> str:
    """``LastModifiedDate`` (a CSV ``fileSchema`` field) as Parquet and ORC name it: ``last_modified_date``."""
    return _CAMEL.sub("_", field.strip()).lower()


def parse_manifest(body: bytes, where: str, checksum: bytes | None) -> Manifest:
    """Read and check one ``manifest.json``; ``checksum`` is ``manifest.checksum``'s text (its MD5 in hex).

    Every problem is a :class:`StorageError` naming ``where`` and what to do.
    """
    if checksum is not None:
        expected = checksum.decode("ascii", "replace").strip().lower()
        actual = hashlib.md5(body, usedforsecurity=False).hexdigest()
        if expected != actual:
            raise StorageError(
                f"cannot read the inventory {where}: manifest.json's MD5 is {actual} but manifest.checksum says "
                f"{expected or '(empty)'}; the report is incomplete or altered: wait for S3 to finish it, or give "
                "an older dated folder"
            )
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        source_bucket = str(data["sourceBucket"])
        file_format = str(data["fileFormat"])
        schema = str(data.get("fileSchema", ""))
        files = tuple(ReportFile(str(f["key"]), int(f["size"]), str(f["MD5checksum"]).lower()) for f in data["files"])
    except (ValueError, KeyError, TypeError) as error:
        detail = f"no {error} field" if isinstance(error, KeyError) else str(error)
        raise StorageError(
            f"cannot read the inventory {where}: manifest.json is not an S3 Inventory manifest ({detail}); "
            "give the folder S3 Inventory writes to (destination-prefix/source-bucket/config-id/)"
        ) from None
    canonical = {f.upper(): f for f in FORMATS}.get(file_format.upper())
    if canonical is None:
        raise StorageError(
            f"cannot read the inventory {where}: fileFormat {file_format!r} is not one of {', '.join(FORMATS)}; "
            "set the inventory configuration's output format to CSV, Parquet or ORC"
        )
    columns = tuple(column_name(f) for f in schema.split(",")) if canonical == "CSV" else ()
    if canonical == "CSV":
        require_columns(columns, where)
    return Manifest(where, source_bucket, canonical, columns, files)


def require_columns(columns: tuple[str, ...] | list[str], where: str) -> None:
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise StorageError(
            f"cannot read the inventory {where}: it has no {', '.join(missing)} column; add Size, Last modified "
            "and ETag to the inventory configuration's additional fields and use the next report"
        )


def newest_dated_folder(folders: list[str]) -> str | None:
    """The latest ``YYYY-MM-DDTHH-MMZ`` among folder names (their text sorts as their time); None if there is none."""
    dated = [name for name in folders if DATED_FOLDER.fullmatch(name)]
    return max(dated) if dated else None


def read_batches(path: Path, manifest: Manifest, where: str, block_size: int = 1 << 22) -> Iterator[Any]:
    """The record batches of one downloaded data file, a few MB at a time whatever the file's size.

    A file the format's reader refuses is a :class:`StorageError` naming it (``where``); an empty CSV file
    (a report of an empty bucket or prefix) has no batches.
    """
    import pyarrow as pa

    try:
        yield from _batches(path, manifest, block_size)
    except (pa.ArrowException, OSError) as error:
        if manifest.file_format == "CSV" and "Empty CSV file" in str(error):
            return
        raise StorageError(
            f"cannot read the inventory file {where}: it is not a valid {manifest.file_format} file "
            f"({str(error).splitlines()[0] if str(error) else type(error).__name__}); use the next report"
        ) from None


def _batches(path: Path, manifest: Manifest, block_size: int) -> Iterator[Any]:
    import pyarrow as pa

    if manifest.file_format == "CSV":
        from pyarrow import csv

        names = list(manifest.columns)
        stream = pa.input_stream(str(path), compression="gzip" if _gzipped(path) else None)
        reader = csv.open_csv(
            stream,
            read_options=csv.ReadOptions(column_names=names, block_size=block_size),
            convert_options=csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False, include_columns=names
            ),
        )
        yield from reader
    elif manifest.file_format == "Parquet":
        from pyarrow import parquet

        handle = parquet.ParquetFile(str(path))
        names = [c for c in handle.schema_arrow.names if column_name(c) in _WANTED]
        require_columns([column_name(c) for c in names], manifest.where)
        yield from handle.iter_batches(batch_size=65536, columns=names)
    else:
        from pyarrow import orc

        handle = orc.ORCFile(str(path))
        names = [c for c in handle.schema.names if column_name(c) in _WANTED]
        require_columns([column_name(c) for c in names], manifest.where)
        for stripe in range(handle.nstripes):
            yield handle.read_stripe(stripe, columns=names)


_WANTED = frozenset((*REQUIRED, "is_latest", "is_delete_marker"))


def _gzipped(path: Path) -> bool:
    with path.open("rb") as head:
        return head.read(2) == b"\x1f\x8b"


def batch_objects(
    batch: Any, *, container: str, prefix: str, url_prefix: str | None, url_encoded: bool, where: str
) -> list[StoredObject]:
    """The current, non-deleted objects under ``prefix`` in one record batch, in the batch's order.

    Rows of other versions (``is_latest`` false) and delete markers are dropped first, as a LIST of the
    bucket does not show them. Keys of a CSV report are decoded (``url_encoded``) before the prefix is
    compared, since the prefix is a raw key's start.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = {column_name(name): batch.column(i) for i, name in enumerate(batch.schema.names)}
    keep = None
    if "is_latest" in columns:
        keep = pc.fill_null(pc.equal(_boolean(columns["is_latest"]), True), True)
    if "is_delete_marker" in columns:
        live = pc.invert(pc.fill_null(pc.equal(_boolean(columns["is_delete_marker"]), True), False))
        keep = live if keep is None else pc.and_(keep, live)
    if prefix and not url_encoded:
        under = pc.starts_with(columns["key"], pattern=prefix)
        keep = under if keep is None else pc.and_(keep, under)
    if keep is not None:
        columns = {name: pc.filter(column, keep) for name, column in columns.items()}
    keys: list[str] = columns["key"].to_pylist()
    if url_encoded:
        keys = [unquote_plus(k) if "%" in k or "+" in k else k for k in keys]
    sizes = columns["size"]
    if sizes.type != pa.int64():
        sizes = _cast(sizes, pa.int64(), "size", where)
    times = columns["last_modified_date"]
    if not pa.types.is_timestamp(times.type) or times.type.tz is None:
        times = _cast(times, pa.timestamp("ms", tz="UTC"), "last_modified_date", where)
    etags: list[str] = columns["e_tag"].to_pylist()
    if sizes.null_count or times.null_count or None in etags:
        raise StorageError(
            f"cannot read the inventory {where}: a current object's row has no size, last-modified time or ETag; "
            "the report is damaged: use the next report or list the bucket without --inventory"
        )
    etags = [e.strip('"') if e.startswith('"') else e for e in etags]
    size_list: list[int] = sizes.to_pylist()
    time_list = aware_times(times)
    if url_encoded and prefix:
        rows = [i for i, key in enumerate(keys) if key.startswith(prefix)]
        if len(rows) != len(keys):
            keys = [keys[i] for i in rows]
            size_list = [size_list[i] for i in rows]
            etags = [etags[i] for i in rows]
            time_list = [time_list[i] for i in rows]
    urls = [url_prefix + k for k in keys] if url_prefix is not None else [f"s3://{container}/{k}" for k in keys]
    return list(map(StoredObject, urls, repeat(container), keys, size_list, etags, time_list))


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def aware_times(column: Any) -> list[datetime]:
    """A timestamp column as aware UTC datetimes, exact to the microsecond.

    Built from the integer microseconds as epoch plus a timedelta, in C through ``map``: pyarrow's own
    ``to_pylist`` of a zoned timestamp makes each value through a timezone lookup, several times slower.
    """
    import pyarrow as pa

    micros = column.cast(pa.timestamp("us", tz="UTC"), safe=False).cast(pa.int64()).to_pylist()
    return list(map(_EPOCH.__add__, map(timedelta, repeat(0), repeat(0), micros)))


def _boolean(column: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_boolean(column.type):
        return column
    return pc.equal(pc.utf8_lower(column), "true")


def _cast(column: Any, kind: Any, name: str, where: str) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        if pa.types.is_string(column.type):
            column = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
        return pc.cast(column, kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise StorageError(
            f"cannot read the inventory {where}: its {name} column does not read as {kind} "
            f"({str(error).splitlines()[0]}); the fileSchema does not match the files: use the next report"
        ) from None
