"""Listing cloud storage through the Airflow providers' own hooks, streamed page by page.

Every lister yields :class:`StoredObject` in key order and never holds more than one page. Errors are
turned into one-line :class:`StorageError` messages that name the source, the connection and the fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from airflow_ingest.core.errors import ConfigError, StorageError
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.urls import Scheme, Source

DEFAULT_CONN_IDS: dict[Scheme, str] = {Scheme.S3: "aws_default"}


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


def list_objects(source: Source, conn_id: str | None = None, *, page_size: int = 1000) -> Iterator[StoredObject]:
    """Stream the objects under ``source`` (folder markers skipped) through the scheme's provider hook."""
    if source.scheme is Scheme.S3:
        return _list_s3(source, conn_id or DEFAULT_CONN_IDS[Scheme.S3], page_size)
    raise ConfigError("source", source.uri, "only s3:// sources can be listed in this version")


def _list_s3(source: Source, conn_id: str, page_size: int) -> Iterator[StoredObject]:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from botocore.exceptions import BotoCoreError, ClientError

    require_connection(conn_id)
    hook = S3Hook(aws_conn_id=conn_id)
    where = f"{source.uri} (connection {conn_id!r})"
    pages = hook.iter_file_metadata(prefix=source.prefix, bucket_name=source.container, page_size=page_size)
    try:
        for meta in pages:
            if meta["Size"] == 0 and meta["Key"].endswith("/"):
                continue
            yield _s3_object(source, meta)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        raise StorageError(f"cannot list {where}: {_s3_advice(code, source)}") from error
    except BotoCoreError as error:
        raise StorageError(f"cannot list {where}: {error}") from error


def _s3_object(source: Source, meta: dict[str, Any]) -> StoredObject:
    key = meta["Key"]
    return StoredObject(
        url=source.object_url(key),
        container=source.container,
        key=key,
        size=int(meta["Size"]),
        etag=str(meta.get("ETag", "")).strip('"'),
        last_modified=meta["LastModified"],
    )


def _s3_advice(code: str, source: Source) -> str:
    advice = {
        "NoSuchBucket": f"bucket {source.container!r} does not exist; check the bucket name and the region",
        "AccessDenied": "access denied; the connection's credentials need s3:ListBucket on this bucket",
        "InvalidAccessKeyId": "the access key id is unknown; check the connection's login or key",
        "SignatureDoesNotMatch": "the secret key is wrong; check the connection's password or secret",
    }
    return advice.get(code, f"S3 answered {code or 'an error'}")
