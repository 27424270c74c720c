"""Listing an S3 bucket from its S3 Inventory report: the same objects, in the same order, without LIST calls.

The report is found and read through ``S3Hook`` (the storage connection), one data file at a time. Inventory
files are in no particular order, so the rows are sorted within bounded memory: runs of :data:`RUN_OBJECTS`
objects are sorted and parked in the parallel listing's :class:`~airflow_ingest.storage.parallel.Spool` files,
then merged as that listing merges its spools. Filters apply before sorting, so they cost nothing later.
"""

from __future__ import annotations

import hashlib
import heapq
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from airflow_ingest.core.errors import StorageError
from airflow_ingest.core.filters import Filters
from airflow_ingest.core.inventory import Manifest, batch_objects, newest_dated_folder, parse_manifest, read_batches
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.urls import Scheme, Source
from airflow_ingest.storage.base import DEFAULT_CONN_IDS, first_line, require_connection, url_prefix
from airflow_ingest.storage.parallel import Spool, _Budget, _key
from airflow_ingest.storage.s3 import S3Storage, _code

RUN_OBJECTS = 100_000
"""Objects sorted in memory at once; a larger report becomes several sorted runs on disk, merged."""


def list_inventory(
    source: Source,
    inventory: str,
    conn_id: str | None = None,
    *,
    filters: Filters | None = None,
    run_objects: int = RUN_OBJECTS,
) -> Iterator[StoredObject]:
    """Stream the objects of ``source`` as its newest S3 Inventory report at ``inventory`` lists them.

    :param inventory: ``s3://destination-bucket/destination-prefix/source-bucket/config-id/`` (the newest
        dated report under it is read), one dated folder under it, or a ``manifest.json``.
    """
    if source.scheme is not Scheme.S3:
        raise StorageError(
            f"cannot list {source.uri} from the inventory {inventory}: inventory reports are S3 Inventory's; "
            "give an s3:// source, or list this source without --inventory"
        )
    conn_id = conn_id or DEFAULT_CONN_IDS[Scheme.S3]
    require_connection(conn_id)
    report = InventoryReport(inventory, conn_id)
    manifest = report.manifest()
    if manifest.source_bucket != source.container:
        raise StorageError(
            f"cannot list {source.uri} from the inventory {report.where}: that report is of bucket "
            f"{manifest.source_bucket!r}, not {source.container!r}; give the inventory configured on "
            f"{source.container!r} (its folder .../{source.container}/<config-id>/)"
        )
    return sorted_objects(report.objects(manifest, source, filters or Filters()), run_objects)


def sorted_objects(runs: Iterator[list[StoredObject]], run_objects: int) -> Iterator[StoredObject]:
    """``runs``' objects in key order: one run sorts in memory; more are spooled sorted and merged."""
    with tempfile.TemporaryDirectory(prefix="airflow-ingest-inventory-") as tmp:
        spools: list[Spool] = []
        pending: list[StoredObject] = []
        disk = _Budget(0)  # sorted runs go straight to disk: memory holds one run, then one chunk per run
        for objects in runs:
            pending.extend(objects)
            if len(pending) >= run_objects:
                pending.sort(key=_key)
                spool = Spool(Path(tmp) / f"{len(spools):06d}.run", disk)
                spool.write(iter(pending))
                spools.append(spool)
                pending = []
        pending.sort(key=_key)
        if not spools:
            yield from pending
            return
        yield from heapq.merge(*(s.read() for s in spools), iter(pending), key=_key)


def file_objects(
    path: Path, manifest: Manifest, source: Source, filters: Filters, where: str, prefix_url: str | None
) -> Iterator[list[StoredObject]]:
    """The wanted objects of one local data file (``where`` names it in errors), a batch at a time."""
    for batch in read_batches(path, manifest, where):
        objects = batch_objects(
            batch,
            container=source.container,
            prefix=source.prefix,
            url_prefix=prefix_url,
            url_encoded=manifest.file_format == "CSV",
            where=where,
        )
        yield [o for o in objects if filters.accepts(o)]  # folder markers go too, as from a LIST


class InventoryReport:
    """One inventory location in a destination bucket, read with the connection's ``S3Hook``."""

    def __init__(self, uri: str, conn_id: str) -> None:
        scheme, sep, rest = uri.strip().partition("://")
        bucket, _, prefix = rest.partition("/")
        if scheme.lower() != "s3" or not sep or not bucket:
            raise StorageError(
                f"inventory={uri!r} is invalid: use s3://destination-bucket/prefix/source-bucket/config-id/, "
                "the folder S3 Inventory writes the report to"
            )
        self.bucket = bucket
        self.prefix = prefix
        self.where = f"s3://{bucket}/{prefix} (connection {conn_id!r})"
        self.client = S3Storage(conn_id).client

    def manifest(self) -> Manifest:
        key = self._manifest_key()
        body = self._get(key) or b""
        checksum_key = key.rpartition("/")[0] + "/manifest.checksum" if "/" in key else "manifest.checksum"
        checksum = self._get(checksum_key, missing_ok=True)
        return parse_manifest(body, f"s3://{self.bucket}/{key}", checksum)

    def _manifest_key(self) -> str:
        if self.prefix.endswith("manifest.json"):
            return self.prefix
        folder = self.prefix if not self.prefix or self.prefix.endswith("/") else self.prefix + "/"
        if newest_dated_folder([folder.rstrip("/").rpartition("/")[2]]):
            return folder + "manifest.json"
        with self._errors():
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=folder, Delimiter="/"
            )
            names = [p["Prefix"][len(folder) :].rstrip("/") for page in pages for p in page.get("CommonPrefixes", [])]
        while names:
            newest = newest_dated_folder(names)
            if newest is None:
                break
            key = f"{folder}{newest}/manifest.json"
            if self._exists(key):
                return key
            names.remove(newest)  # a report S3 is still writing has no manifest yet: take the one before
        raise StorageError(
            f"cannot read the inventory {self.where}: no YYYY-MM-DDTHH-MMZ/manifest.json under it; give the "
            "folder S3 Inventory writes to (destination-prefix/source-bucket/config-id/), and wait for the first "
            "report (up to 48 hours after configuring it)"
        )

    def objects(self, manifest: Manifest, source: Source, filters: Filters) -> Iterator[list[StoredObject]]:
        """Each data file's wanted objects, batch by batch; one file on local disk at a time."""
        prefix_url = url_prefix(source)
        with tempfile.TemporaryDirectory(prefix="airflow-ingest-inventory-files-") as tmp:
            for number, entry in enumerate(manifest.files):
                path = Path(tmp) / f"{number:06d}"
                self._download(entry.key, path, entry.md5)
                yield from file_objects(path, manifest, source, filters, f"s3://{self.bucket}/{entry.key}", prefix_url)
                path.unlink()

    def _download(self, key: str, path: Path, md5: str) -> None:
        digest = hashlib.md5(usedforsecurity=False)
        with self._errors(key), path.open("wb") as out:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
            for chunk in iter(lambda: body.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        if md5 and digest.hexdigest() != md5:
            raise StorageError(
                f"cannot read the inventory file s3://{self.bucket}/{key}: its MD5 is {digest.hexdigest()} but the "
                f"manifest says {md5}; the file was altered or cut short: use the next report"
            )

    def _get(self, key: str, missing_ok: bool = False) -> bytes | None:
        from botocore.exceptions import ClientError

        with self._errors(key):
            try:
                return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())
            except ClientError as error:
                if missing_ok and _code(error) in ("NoSuchKey", "404"):
                    return None
                raise

    def _exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        with self._errors(key):
            try:
                self.client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as error:
                if _code(error) in ("NoSuchKey", "404", "NotFound"):
                    return False
                raise
        return True

    @contextmanager
    def _errors(self, key: str | None = None) -> Iterator[None]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except (ClientError, BotoCoreError) as error:
            code = _code(error) if isinstance(error, ClientError) else ""
            if code == "NoSuchBucket":
                advice = f"bucket {self.bucket!r} does not exist; check the inventory's destination bucket"
            elif code == "NoSuchKey":
                advice = f"{key} does not exist; give a dated folder that has a manifest.json"
            elif code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                advice = "access denied; the connection's credentials need s3:GetObject and s3:ListBucket on it"
            else:
                advice = first_line(error)
            where = f"s3://{self.bucket}/{key}" if key else self.where
            raise StorageError(f"cannot list the inventory {where}: {advice}") from error
