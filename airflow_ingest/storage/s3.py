"""S3 through ``S3Hook`` (its session, role assumption and endpoint): listing, ranged reads, writes, signing, the
ledger's compare-and-swap (``If-Match`` / ``If-None-Match: *``), and S3's errors explained once for all of them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from airflow_ingest.core.errors import StorageError
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.urls import Scheme, Source
from airflow_ingest.storage.base import AlreadyExists, Conflict, ReadFailure, Storage, require_connection, url_prefix

_TAKEN = ("PreconditionFailed", "412", "ConditionalRequestConflict")
"""A conditional put found the key taken or changed."""
_MISSING = ("404", "NoSuchKey", "NotFound")


class S3Storage(Storage):
    scheme = Scheme.S3

    def __init__(
        self, conn_id: str | None, *, timeout: float = 60.0, threads: int = 1, page_size: int | None = None
    ) -> None:
        """:param conn_id: None takes the ambient AWS credentials, as ``S3Hook`` does (a ledger path without one)."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook
        from botocore.config import Config

        self.conn_id = conn_id
        self.where = f"S3 (connection {conn_id!r})"
        self.hook = S3Hook(aws_conn_id=conn_id)
        if threads > 10:  # botocore keeps 10 connections by default; give every listing thread its own
            pool = Config(max_pool_connections=threads)
            base = self.hook.conn_config.botocore_config
            self.hook = S3Hook(aws_conn_id=conn_id, config=base.merge(pool) if base else pool)
        self.page_size = page_size or self.page_size
        self.client = self.hook.get_conn()
        lean_listing(self.client)

    # -- listing ----------------------------------------------------------------------------------------------

    def _walk(self, source: Source, prefix: str) -> Iterator[StoredObject]:
        pages = self.hook.iter_file_metadata(prefix=prefix, bucket_name=source.container, page_size=self.page_size)
        make = self._maker(source)
        for meta in pages:
            yield make(meta)

    def _level(self, source: Source, prefix: str) -> Iterator[StoredObject | str]:
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=source.container, Prefix=prefix, Delimiter="/", PaginationConfig={"PageSize": self.page_size}
        )
        make = self._maker(source)
        for page in pages:
            for meta in page.get("Contents", []):
                yield make(meta)
            for common in page.get("CommonPrefixes", []):
                yield str(common["Prefix"])

    @staticmethod
    def _maker(source: Source) -> Any:
        """One listing entry to an object, with the URL prefix built once per listing."""
        container = source.container
        prefix = url_prefix(source)
        object_url = source.object_url

        def make(meta: dict[str, Any]) -> StoredObject:
            key = meta["Key"]
            url = prefix + key if prefix is not None else object_url(key)
            etag = meta.get("ETag", "")
            etag = etag.strip('"') if etag.__class__ is str else str(etag).strip('"')
            # positional, in field order: keywords cost a fifth more per object here
            return StoredObject(url, container, key, int(meta["Size"]), etag, meta["LastModified"])

        return make

    # -- single objects ---------------------------------------------------------------------------------------

    def _read(self, container: str, key: str, start: int, length: int | None) -> bytes:
        extra = {"Range": f"bytes={start}-{start + length - 1}"} if length is not None else {}
        response = self.client.get_object(Bucket=container, Key=key, **extra)
        return bytes(response["Body"].read())

    def _metadata(self, container: str, key: str) -> dict[str, str] | None:
        from botocore.exceptions import ClientError

        try:
            response = self.client.head_object(Bucket=container, Key=key)
        except ClientError as error:
            if _code(error) in _MISSING:
                return None
            raise
        return dict(response.get("Metadata") or {})

    def _write(
        self, container: str, key: str, data: bytes, content_type: str, metadata: dict[str, str], create_only: bool
    ) -> None:
        from botocore.exceptions import ClientError

        extra = {"IfNoneMatch": "*"} if create_only else {}
        try:
            self.client.put_object(
                Bucket=container, Key=key, Body=data, ContentType=content_type, Metadata=metadata, **extra
            )
        except ClientError as error:
            if _code(error) in _TAKEN:
                raise AlreadyExists(key) from None
            raise

    def _signed_url(self, container: str, key: str, expires: timedelta) -> str:
        url = self.hook.generate_presigned_url(
            "get_object", params={"Bucket": container, "Key": key}, expires_in=int(expires.total_seconds())
        )
        if not url:
            raise ReadFailure(f"{key!r} in {self.where}: the hook could not presign a URL", retryable=False)
        return url

    def _read_versioned(self, container: str, key: str) -> tuple[bytes | None, str | None]:
        from botocore.exceptions import ClientError

        try:  # one answer carries both, so the token is the content's own
            response = self.client.get_object(Bucket=container, Key=key)
        except ClientError as error:
            if _code(error) in _MISSING:
                return None, None
            raise
        return bytes(response["Body"].read()), str(response["ETag"])

    def _swap(self, container: str, key: str, data: bytes, token: str | None) -> None:
        from botocore.exceptions import ClientError

        condition = {"IfNoneMatch": "*"} if token is None else {"IfMatch": token}
        try:
            self.client.put_object(Bucket=container, Key=key, Body=data, **condition)
        except ClientError as error:
            if _code(error) in _TAKEN:
                raise Conflict(key) from None
            raise

    def explain(self, error: BaseException, container: str) -> tuple[str, bool] | None:
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(error, ClientError):
            code = _code(error)
            missing = "no such object (deleted or renamed since the listing?)"
            denied = (
                "access denied: the connection's credentials need s3:ListBucket to list, s3:GetObject to read "
                "(and s3:PutObject to write)"
            )
            known = {
                "NoSuchBucket": f"bucket {container!r} does not exist; check its name and region",
                "NoSuchKey": missing,
                "404": missing,
                "AccessDenied": denied,
                "403": denied,
                "InvalidAccessKeyId": "the access key id is unknown; check the connection's login or key",
                "SignatureDoesNotMatch": "the secret key is wrong; check the connection's password",
                "InvalidBucketName": f"{container!r} is not a valid bucket name",
                "InvalidRange": "the object is shorter than its listed size (changed since the listing?)",
            }
            return (known[code], False) if code in known else (f"S3 answered {code or 'an error'}", True)
        if type(error).__name__ == "NoCredentialsError":
            return ("no credentials: give the connection a login and password (access key id and secret)", False)
        if isinstance(error, BotoCoreError):
            return (f"{type(error).__name__}: {error}", True)
        return None


def _code(error: Any) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


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


def lean_listing(client: Any) -> None:
    """Take four avoidable costs out of botocore's handling of a listing page, on this client only.

    - Timestamps: ``LastModified`` parsed with ``datetime.fromisoformat`` instead of dateutil, which was most of
      a listing's CPU; the AWS CLI swaps it out the same way.
    - The 200-error check: botocore parses every S3 response body a second time to see whether a 200 carries an
      ``<Error>`` document or was cut short. For ``ListObjectsV2`` a complete answer ends with
      ``</ListBucketResult>``; anything else is turned into a 500 as botocore does, so it is retried. Other
      operations keep botocore's check.
    - The body walk: botocore's model-driven reading of a ``ListObjectsV2`` body (Python under the GIL, which
      capped parallel listing) is replaced by a compiled one with the same result
      (:mod:`airflow_ingest.storage.s3_xml`); errors and other operations keep botocore's.
    - Key decoding: botocore's ``unquote_plus`` of every key after the call runs only on keys it changes.

    Values are identical; only the speed changes (bench/engines.py measures listing with and without). If
    botocore's internals move, the client keeps its defaults.
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
