"""Listing cloud storage through the Airflow providers' own hooks, streamed page by page, in key order.

One lister per backend (S3 via ``S3Hook``, GCS via ``GCSHook``, Azure Blob via ``WasbHook``, local folders)
with two operations: ``walk`` (every object under a prefix, one page in memory) and ``level`` (a delimiter
listing: the objects directly under a prefix and its sub-prefixes). Filters, the optional parallel listing
and error messages are shared, so each backend is only the translation of its SDK's objects and errors.
"""

from __future__ import annotations

import base64
import functools
import heapq
import logging
import mimetypes
import os
import pickle
import stat
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Protocol

from airflow_ingest.core.errors import StorageError
from airflow_ingest.core.filters import Filters
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.urls import Scheme, Source

DEFAULT_CONN_IDS: dict[Scheme, str] = {
    Scheme.S3: "aws_default",
    Scheme.GCS: "google_cloud_default",
    Scheme.AZURE: "wasb_default",
}


class Lister(Protocol):
    source: Source
    where: str

    def walk(self, prefix: str) -> Iterator[StoredObject]: ...

    def level(self, prefix: str) -> Iterator[StoredObject | str]: ...


def list_objects(
    source: Source,
    conn_id: str | None = None,
    *,
    filters: Filters | None = None,
    page_size: int = 1000,
    parallel: int = 1,
    timeout: float = 60.0,
    inventory: str | None = None,
) -> Iterator[StoredObject]:
    """Stream the objects under ``source`` in key order, folder markers skipped and ``filters`` applied.

    :param parallel: with more than 1, list the prefix's sub-prefixes concurrently on that many threads
        (each spooled to a temporary file) and merge them back into key order; worth it on wide buckets
        over real networks, where each page costs tens of milliseconds.
    :param timeout: seconds before an unreachable service becomes an error instead of a hang.
    :param inventory: read the objects from this S3 Inventory report instead of listing the bucket
        (:mod:`airflow_ingest.hooks.inventory`): the same objects, as of the report's date.
    """
    if inventory:
        from airflow_ingest.hooks.inventory import list_inventory

        return list_inventory(source, inventory, conn_id, filters=filters)
    lister = lister_for(source, conn_id, page_size=page_size, timeout=timeout, threads=parallel)
    objects = _parallel(lister, source.prefix, parallel) if parallel > 1 else lister.walk(source.prefix)
    wanted = filters or Filters()
    return (obj for obj in objects if wanted.accepts(obj))


def lister_for(
    source: Source, conn_id: str | None, *, page_size: int = 1000, timeout: float = 60.0, threads: int = 1
) -> Lister:
    if source.scheme is Scheme.FILE:
        return LocalLister(source)
    conn_id = conn_id or DEFAULT_CONN_IDS[source.scheme]
    require_connection(conn_id)
    if source.scheme is Scheme.S3:
        return S3Lister(source, conn_id, page_size, timeout, threads)
    if source.scheme is Scheme.GCS:
        return GCSLister(source, conn_id, page_size, timeout)
    return AzureLister(source, conn_id, page_size, timeout)


def require_connection(conn_id: str) -> None:
    """Fail fast on an unknown connection id: the AWS hook would otherwise fall back to ambient credentials."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise StorageError(
            f"connection {conn_id!r} is not defined: create it under Admin > Connections "
            f"or set AIRFLOW_CONN_{conn_id.upper()}"
        ) from None


def _parallel(lister: Lister, prefix: str, workers: int) -> Iterator[StoredObject]:
    """List each sub-prefix on its own thread into a spool; yield everything back in key order.

    Sub-prefixes are disjoint key ranges, so their listings concatenate in order; objects directly under
    the prefix interleave with them and are merged in. A spool keeps its first pages in memory while a budget
    shared by all of them (:data:`SPOOL_PAGES` per thread) lasts, and writes the rest to a temporary file, so
    memory stays at about three pages per thread (~1 MB): the one being listed and the ones parked.
    """
    with tempfile.TemporaryDirectory(prefix="airflow-ingest-list-") as tmp:
        folder = Path(tmp)
        budget = _Budget(workers * SPOOL_PAGES * SPOOL_CHUNK)
        subprefixes: list[str] = []

        def direct() -> Iterator[StoredObject]:
            for entry in lister.level(prefix):
                if isinstance(entry, str):
                    subprefixes.append(entry)
                else:
                    yield entry

        direct_spool = Spool(folder / "direct.spool", budget)
        direct_spool.write(direct())
        subprefixes.sort()

        def spool_one(index: int, sub: str) -> Spool:
            spool = Spool(folder / f"{index:06d}.spool", budget)
            spool.write(lister.walk(sub))
            return spool

        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="airflow-ingest-list")
        try:
            futures = [pool.submit(spool_one, i, sub) for i, sub in enumerate(subprefixes)]
            if direct_spool.count:
                yield from heapq.merge(direct_spool.read(), _in_order(futures), key=_key)
            else:  # nothing directly under the prefix (the usual wide tree): the sub-listings are already in order
                yield from _in_order(futures)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _key(obj: StoredObject) -> str:
    return obj.key


def _in_order(futures: list[Future[Spool]]) -> Iterator[StoredObject]:
    for future in futures:
        yield from future.result().read()


SPOOL_CHUNK = 1000
SPOOL_PAGES = 2
"""Pages per listing thread parked in memory before spooling to disk: a sub-prefix of up to two pages, the
common case under a date or camera folder, then never costs the pickling (a tenth of a parallel listing's CPU)."""


class _Budget:
    """How many objects the spools of one parallel listing may still keep in memory, shared across threads."""

    def __init__(self, objects: int) -> None:
        self.left = objects
        self.lock = threading.Lock()

    def take(self, count: int) -> bool:
        with self.lock:
            if count > self.left:
                return False
            self.left -= count
            return True

    def give(self, count: int) -> None:
        with self.lock:
            self.left += count


class Spool:
    """One listing parked until the merge reaches it: chunks in memory while the budget allows, then a file.

    Memory first because the file costs CPU, under the GIL the listing threads share: a pickled chunk is a
    tuple built per object, pickled, unpickled and made a :class:`StoredObject` again (about 2 µs an object,
    an eighth of a parallel listing's CPU). On disk each object is the tuple of its fields: pickling the
    slotted dataclass itself goes through Python-level ``__getstate__``/``__setstate__``, 2.5 times slower.
    Once a chunk goes to the file the rest follow, so reading is the memory chunks, then the file's.
    """

    def __init__(self, path: Path, budget: _Budget) -> None:
        self.path = path
        self.budget = budget
        self.held: list[list[StoredObject]] = []
        self.spilled = False
        self.count = 0

    def write(self, objects: Iterator[StoredObject]) -> None:
        out: IO[bytes] | None = None
        try:
            chunk: list[StoredObject] = []
            for obj in objects:
                chunk.append(obj)
                if len(chunk) == SPOOL_CHUNK:
                    out = self._park(chunk, out)
                    chunk = []
            if chunk:
                out = self._park(chunk, out)
        finally:
            if out is not None:
                out.close()

    def _park(self, chunk: list[StoredObject], out: IO[bytes] | None) -> IO[bytes] | None:
        self.count += len(chunk)
        if out is None and self.budget.take(len(chunk)):
            self.held.append(chunk)
            return None
        if out is None:
            out = self.path.open("wb")
            self.spilled = True
        rows = [(o.url, o.container, o.key, o.size, o.etag, o.last_modified, o.content_type) for o in chunk]
        pickle.dump(rows, out, protocol=pickle.HIGHEST_PROTOCOL)
        return out

    def read(self) -> Iterator[StoredObject]:
        while self.held:
            chunk = self.held.pop(0)
            yield from chunk
            self.budget.give(len(chunk))
        if not self.spilled:
            return
        with self.path.open("rb") as stream:
            while True:
                try:
                    rows = pickle.load(stream)
                except EOFError:
                    return
                for fields in rows:
                    yield StoredObject(*fields)


def url_prefix(source: Source) -> str | None:
    """What every object URL of ``source`` starts with, when a URL is that plus the raw key; else None.

    Built once per lister instead of once per object (the scheme enum's ``.value`` and an f-string, a tenth of
    a listing's own CPU). Checked against :meth:`Source.object_url` on awkward keys, so a change there (say,
    percent-encoding) turns this off instead of changing URLs.
    """
    prefix = source.object_url("")
    probes = ("a", "a b/ü#?%+.png", "x/")
    return prefix if all(source.object_url(key) == prefix + key for key in probes) else None


class S3Lister:
    def __init__(self, source: Source, conn_id: str, page_size: int, timeout: float, threads: int = 1) -> None:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook
        from botocore.config import Config

        self.source = source
        self.where = f"{source.uri} (connection {conn_id!r})"
        self.hook = S3Hook(aws_conn_id=conn_id)
        if threads > 10:  # botocore keeps 10 connections by default; give every listing thread its own
            pool = Config(max_pool_connections=threads)
            base = self.hook.conn_config.botocore_config
            self.hook = S3Hook(aws_conn_id=conn_id, config=base.merge(pool) if base else pool)
        self.page_size = page_size
        self.url_prefix = url_prefix(source)
        lean_listing(self.hook.get_conn())

    def walk(self, prefix: str) -> Iterator[StoredObject]:
        pages = self.hook.iter_file_metadata(prefix=prefix, bucket_name=self.source.container, page_size=self.page_size)
        with self._errors():
            for meta in pages:
                yield self._object(meta)

    def level(self, prefix: str) -> Iterator[StoredObject | str]:
        paginator = self.hook.get_conn().get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self.source.container,
            Prefix=prefix,
            Delimiter="/",
            PaginationConfig={"PageSize": self.page_size},
        )
        with self._errors():
            for page in pages:
                for meta in page.get("Contents", []):
                    yield self._object(meta)
                for common in page.get("CommonPrefixes", []):
                    yield str(common["Prefix"])

    def _object(self, meta: dict[str, Any]) -> StoredObject:
        key = meta["Key"]
        url = self.url_prefix + key if self.url_prefix is not None else self.source.object_url(key)
        etag = meta.get("ETag", "")
        etag = etag.strip('"') if etag.__class__ is str else str(etag).strip('"')
        # positional, in field order: keywords cost a fifth more per object here
        return StoredObject(url, self.source.container, key, int(meta["Size"]), etag, meta["LastModified"])

    def _errors(self) -> _Translate:
        from botocore.exceptions import BotoCoreError, ClientError

        def advice(error: BaseException) -> str:
            if isinstance(error, ClientError):
                code = error.response.get("Error", {}).get("Code", "")
                known = {
                    "NoSuchBucket": f"bucket {self.source.container!r} does not exist; check its name and region",
                    "AccessDenied": "access denied; the connection's credentials need s3:ListBucket on this bucket",
                    "InvalidAccessKeyId": "the access key id is unknown; check the connection's login or key",
                    "SignatureDoesNotMatch": "the secret key is wrong; check the connection's password",
                    "InvalidBucketName": f"{self.source.container!r} is not a valid bucket name",
                }
                return known.get(code, f"S3 answered {code or 'an error'}")
            if type(error).__name__ == "NoCredentialsError":
                return "no credentials: give the connection a login and password (access key id and secret)"
            return f"{type(error).__name__}: {error}"

        return _Translate(self.where, (ClientError, BotoCoreError), advice)


def s3_bucket_region(bucket: str, conn_id: str = "aws_default") -> str:
    """The region for virtual-hosted URLs: the bucket's location, else the connection's region.

    ``GetBucketLocation`` answers ``None`` for us-east-1; a refused call (the key may list but not read
    bucket settings) falls back to the connection's ``region_name``.
    """
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from botocore.exceptions import BotoCoreError, ClientError

    require_connection(conn_id)
    hook = S3Hook(aws_conn_id=conn_id)
    try:
        location = hook.get_conn().get_bucket_location(Bucket=bucket).get("LocationConstraint")
    except (ClientError, BotoCoreError):
        location = hook.conn_region_name
        if not location:
            raise StorageError(
                f"cannot tell the region of bucket {bucket!r} (connection {conn_id!r}): allow "
                "s3:GetBucketLocation or set region_name in the connection's extra"
            ) from None
    return str(location or "us-east-1")


def azure_account_name(conn_id: str = "wasb_default") -> str:
    """The storage account a ``wasb`` connection points at, for ``https://{account}.blob.core.windows.net``."""
    from airflow.providers.microsoft.azure.hooks.wasb import WasbHook

    require_connection(conn_id)
    return str(WasbHook(wasb_conn_id=conn_id).get_conn().account_name)


def complete_target(platform: str, target: dict[str, Any], source: Source, conn_id: str | None) -> dict[str, Any]:
    """Add what the platform's URLs need and the target left out: the S3 region, the Azure account.

    Darwin takes storage keys and RedBrick external storage takes keys, so only Encord and RedBrick's
    public storage build URLs; each asks the storage only when it must.
    """
    from airflow_ingest.platforms.redbrick.target import PUBLIC_STORAGE

    builds_urls = platform == "encord" or (platform == "redbrick" and target.get("storage_id") == PUBLIC_STORAGE)
    if not builds_urls:
        return target
    completed = dict(target)
    style = completed.get("url_style")
    if source.scheme is Scheme.S3 and not completed.get("region") and style in (None, "virtual-hosted", "path"):
        completed["region"] = s3_bucket_region(source.container, conn_id or DEFAULT_CONN_IDS[Scheme.S3])
    if source.scheme is Scheme.AZURE and not completed.get("account"):
        completed["account"] = azure_account_name(conn_id or DEFAULT_CONN_IDS[Scheme.AZURE])
    return completed


def lean_listing(client: Any) -> None:
    """Take four avoidable costs out of botocore's handling of a listing page, on this client only.

    - Timestamps: ``LastModified`` parsed with ``datetime.fromisoformat`` instead of dateutil, which was most of
      a listing's CPU (46 of 59 ms per 1,000-key page here); the AWS CLI swaps it out the same way.
    - The 200-error check: botocore parses every S3 response body a second time to see whether a 200 carries an
      ``<Error>`` document or was cut short (a quarter of the rest). For ``ListObjectsV2`` a complete answer
      ends with ``</ListBucketResult>``; anything else is turned into a 500 as botocore does, so it is retried.
      Other operations keep botocore's check.
    - The body walk: botocore's model-driven reading of a ``ListObjectsV2`` body (about 11 ms of the remaining
      Python per page, under the GIL, which capped parallel listing) is replaced by a compiled one with the
      same result (:mod:`airflow_ingest.storage.s3_xml`, 3 ms); errors and other operations keep botocore's.
    - Key decoding: botocore's ``unquote_plus`` of every key after the call runs only on keys it changes.

    Values are identical; only the speed changes. If botocore's internals move, the client keeps its defaults.
    """
    from airflow_ingest.storage.s3_xml import install_lean_key_decoding, install_listing_parser

    if not install_listing_parser(client, timestamp_parser=parse_aws_timestamp):
        factory = getattr(getattr(client, "_endpoint", None), "_response_parser_factory", None)
        if factory is not None and hasattr(factory, "set_parser_defaults"):
            factory.set_parser_defaults(timestamp_parser=parse_aws_timestamp)
    install_lean_key_decoding(client)
    from botocore import handlers

    full_check = getattr(handlers, "_handle_200_error", None)
    if full_check is None:
        return

    def check_200(operation_model: Any, response_dict: dict[str, Any] | None, **kwargs: Any) -> None:
        if operation_model.name != "ListObjectsV2" or not response_dict:
            full_check(operation_model, response_dict, **kwargs)
        elif response_dict.get("status_code") == 200 and not _complete_listing(response_dict.get("body")):
            response_dict["status_code"] = 500

    client.meta.events.unregister("before-parse.s3.*", full_check)
    client.meta.events.register_first("before-parse.s3.*", check_200, unique_id="airflow-ingest-200-check")


def _complete_listing(body: bytes | None) -> bool:
    return bool(body) and body.rstrip().endswith(b"</ListBucketResult>")  # type: ignore[union-attr]


@functools.lru_cache(maxsize=4096)
def parse_aws_timestamp(value: str) -> datetime:
    """S3's ``LastModified`` text as an aware datetime; remembered, since objects written together share one."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is not None:
            return parsed
    except (ValueError, AttributeError):
        pass
    from botocore.utils import parse_timestamp

    return parse_timestamp(value)  # type: ignore[no-any-return]


def blob_updated(blob: Any) -> datetime:
    """A GCS blob's ``updated`` time, read with ``datetime.fromisoformat`` from the listing's RFC 3339 text.

    ``blob.updated`` parses it with ``strptime`` (13 µs an object, half a listing's CPU); the value is the
    same. Any text ``fromisoformat`` cannot read goes the library's way.
    """
    text = (getattr(blob, "_properties", None) or {}).get("updated")
    if isinstance(text, str):
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    return blob.updated  # type: ignore[no-any-return]


class GCSLister:
    def __init__(self, source: Source, conn_id: str, page_size: int, timeout: float) -> None:
        from airflow.providers.google.cloud.hooks.gcs import GCSHook
        from google.api_core.retry import Retry

        self.source = source
        self.conn_id = conn_id
        self.where = f"{source.uri} (connection {conn_id!r})"
        self.hook = GCSHook(gcp_conn_id=conn_id)
        self.page_size = page_size
        self.url_prefix = url_prefix(source)
        self.timeout = timeout
        self.retry = Retry(timeout=timeout)

    def walk(self, prefix: str) -> Iterator[StoredObject]:
        with self._errors():
            blobs = self._client().list_blobs(
                self.source.container, prefix=prefix, page_size=self.page_size, timeout=self.timeout, retry=self.retry
            )
            for blob in blobs:
                yield self._object(blob)

    def level(self, prefix: str) -> Iterator[StoredObject | str]:
        with self._errors():
            blobs = self._client().list_blobs(
                self.source.container,
                prefix=prefix,
                delimiter="/",
                page_size=self.page_size,
                timeout=self.timeout,
                retry=self.retry,
            )
            for blob in blobs:
                yield self._object(blob)
            yield from sorted(blobs.prefixes)

    def _client(self) -> Any:
        if not hasattr(self, "_cached_client"):
            self._cached_client = self.hook.get_conn()
        return self._cached_client

    def _object(self, blob: Any) -> StoredObject:
        """One blob, read from the listing's JSON resource (``blob._properties``) that the properties wrap.

        ``blob.md5_hash``, ``.etag``, ``.size`` and ``.content_type`` are each a property over that dict; reading
        it once, with the URL prefix built once per lister and positional arguments, is a third of this method's
        time. The values are the properties' own (``size`` as ``int``, ``None`` for a missing content type).
        """
        props = getattr(blob, "_properties", None)
        if props.__class__ is not dict:  # not the library's Blob as we know it: through its properties
            return self._object_from_properties(blob)
        name = blob.name
        md5 = props.get("md5Hash")  # type: ignore[union-attr]
        etag = base64.b64decode(md5).hex() if md5 else str(props.get("etag") or "")  # type: ignore[union-attr]
        size = props.get("size")  # type: ignore[union-attr]
        url = self.url_prefix + name if self.url_prefix is not None else self.source.object_url(name)
        return StoredObject(
            url,
            self.source.container,
            name,
            int(size) if size is not None else 0,
            etag,
            blob_updated(blob),
            props.get("contentType"),  # type: ignore[union-attr]
        )

    def _object_from_properties(self, blob: Any) -> StoredObject:
        md5 = base64.b64decode(blob.md5_hash).hex() if blob.md5_hash else str(blob.etag or "")
        return StoredObject(
            url=self.source.object_url(blob.name),
            container=self.source.container,
            key=blob.name,
            size=int(blob.size or 0),
            etag=md5,
            last_modified=blob_updated(blob),
            content_type=blob.content_type,
        )

    def _errors(self) -> _Translate:
        from google.api_core import exceptions as gexc
        from google.auth.exceptions import GoogleAuthError
        from requests.exceptions import RequestException

        def advice(error: BaseException) -> str:
            if isinstance(error, gexc.NotFound):
                return f"bucket {self.source.container!r} does not exist"
            if isinstance(error, (gexc.Forbidden, gexc.Unauthorized)):
                return "access denied; the connection's credentials need storage.objects.list on this bucket"
            if isinstance(error, GoogleAuthError):
                return (
                    "no usable credentials: give the connection a key file or keyfile_dict, or set "
                    "extra is_anonymous=true for an emulator or a public bucket"
                )
            emulator = os.environ.get("STORAGE_EMULATOR_HOST")
            target = f"the emulator at {emulator}" if emulator else "storage.googleapis.com"
            hint = "" if emulator else "; for an emulator set STORAGE_EMULATOR_HOST in every Airflow process"
            return f"could not reach {target} within {self.timeout:g} s ({type(error).__name__}){hint}"

        return _Translate(self.where, (gexc.GoogleAPIError, gexc.RetryError, GoogleAuthError, RequestException), advice)


class AzureLister:
    def __init__(self, source: Source, conn_id: str, page_size: int, timeout: float) -> None:
        from airflow.providers.microsoft.azure.hooks.wasb import WasbHook

        self.source = source
        self.where = f"{source.uri} (connection {conn_id!r})"
        self.hook = WasbHook(wasb_conn_id=conn_id)
        self.page_size = page_size
        self.timeout = timeout

    def _container(self) -> Any:
        if not hasattr(self, "_cached_container"):
            with self._errors():
                self._cached_container = self.hook.get_conn().get_container_client(self.source.container)
        return self._cached_container

    def walk(self, prefix: str) -> Iterator[StoredObject]:
        with self._errors():
            pages = self._container().list_blobs(
                name_starts_with=prefix or None, results_per_page=self.page_size, timeout=self.timeout
            )
            for page in pages.by_page():
                for blob in page:
                    yield self._object(blob)

    def level(self, prefix: str) -> Iterator[StoredObject | str]:
        from azure.storage.blob import BlobPrefix

        with self._errors():
            for entry in self._container().walk_blobs(
                name_starts_with=prefix or None, delimiter="/", results_per_page=self.page_size, timeout=self.timeout
            ):
                yield str(entry.name) if isinstance(entry, BlobPrefix) else self._object(entry)

    def _object(self, blob: Any) -> StoredObject:
        settings = blob.content_settings
        md5 = bytes(settings.content_md5).hex() if settings and settings.content_md5 else str(blob.etag).strip('"')
        return StoredObject(
            url=self.source.object_url(blob.name),
            container=self.source.container,
            key=blob.name,
            size=int(blob.size),
            etag=md5,
            last_modified=blob.last_modified,
            content_type=settings.content_type if settings else None,
        )

    def _errors(self) -> _Translate:
        from azure.core import exceptions as aexc

        def advice(error: BaseException) -> str:
            if isinstance(error, aexc.ResourceNotFoundError):
                return f"container {self.source.container!r} does not exist in this storage account"
            refused = isinstance(error, aexc.ClientAuthenticationError) or (
                isinstance(error, aexc.HttpResponseError) and error.status_code in (401, 403)
            )
            if refused:
                return "the storage account refused the credentials; check the connection's key or SAS token"
            if isinstance(error, aexc.ServiceRequestError):
                return f"could not reach the storage account ({error}); check the connection's host or account"
            return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"

        return _Translate(self.where, (aexc.AzureError, ValueError), advice)


log = logging.getLogger(__name__)


class LocalLister:
    """A folder on this machine, listed like a bucket: keys are ``/``-separated paths below it, in key order."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.where = source.uri
        self.root = Path(source.container)
        if not self.root.is_dir():
            raise StorageError(f"cannot list {self.where}: {self.root} is not a folder on this machine")

    def walk(self, prefix: str) -> Iterator[StoredObject]:
        for entry in self.level(prefix):
            if isinstance(entry, str):
                yield from self.walk(entry)
            else:
                yield entry

    def level(self, prefix: str) -> Iterator[StoredObject | str]:
        folder = self.root / prefix if prefix else self.root
        try:
            with os.scandir(folder) as scan:
                entries = [(e.name + ("/" if e.is_dir(follow_symlinks=False) else ""), e) for e in scan]
        except OSError as error:
            raise StorageError(f"cannot list {self.where}: {error.strerror} ({folder})") from error
        for name, entry in sorted(entries, key=lambda pair: pair[0]):
            key = prefix + name
            if not name.isascii():
                _require_utf8(name, folder, self.where)
            if name.endswith("/"):
                yield key
                continue
            try:
                info = entry.stat()
            except OSError as error:  # a dangling symlink, a file removed mid-listing: that file only
                log.warning(
                    "Skipped %s: it cannot be read (%s; a dangling symlink?)",
                    self.source.object_url(key),
                    error.strerror,
                )
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            yield StoredObject(
                url=self.source.object_url(key),
                container=self.source.container,
                key=key,
                size=info.st_size,
                etag=f"{info.st_mtime_ns:x}-{info.st_size:x}",
                last_modified=datetime.fromtimestamp(info.st_mtime, tz=timezone.utc),
                content_type=mimetypes.guess_type(name)[0],
            )


def _require_utf8(name: str, folder: Path, where: str) -> None:
    """Refuse a file name that is not UTF-8: no bucket or platform can hold it as a key, and JSON cannot carry it."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raw = os.fsencode(name)
        raise StorageError(
            f"cannot list {where}: the file name {raw!r} in {folder} is not UTF-8; rename it (keys must be UTF-8)"
        ) from None


class _Translate:
    """Turns an SDK's errors into one-line :class:`StorageError` naming the source, the connection and the fix."""

    def __init__(self, where: str, errors: tuple[type[BaseException], ...], advice: Any) -> None:
        self.where = where
        self.errors = errors
        self.advice = advice

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: Any) -> None:
        if error is not None and isinstance(error, self.errors) and not isinstance(error, StorageError):
            raise StorageError(f"cannot list {self.where}: {self.advice(error)}") from error
