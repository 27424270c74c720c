"""Listing cloud storage as a stream of objects in key order: the one entry point for operators, the CLI and tests.

The clouds' own listing is in their modules (:mod:`.s3`, :mod:`.gcs`, :mod:`.azure`, :mod:`.local`); here are
what every listing shares: filters, the parallel listing, the S3 Inventory alternative, and completing a target
with what its platform's URLs need from the storage (the S3 region, the Azure account).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from airflow_ingest.core.filters import Filters
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.urls import Scheme, Source
from airflow_ingest.storage.base import DEFAULT_CONN_IDS, storage_for
from airflow_ingest.storage.parallel import parallel_walk


def list_objects(
    source: Source,
    conn_id: str | None = None,
    *,
    filters: Filters | None = None,
    page_size: int | None = None,
    parallel: int = 1,
    timeout: float = 60.0,
    inventory: str | None = None,
) -> Iterator[StoredObject]:
    """Stream the objects under ``source`` in key order, folder markers skipped and ``filters`` applied.

    The connection is checked (and a local folder's existence) when this is called, not when the first object
    is asked for.

    :param parallel: with more than 1, list the prefix's sub-prefixes concurrently on that many threads
        (:mod:`airflow_ingest.storage.parallel`).
    :param timeout: seconds before an unreachable service becomes an error instead of a hang.
    :param inventory: read the objects from this S3 Inventory report instead of listing the bucket
        (:mod:`airflow_ingest.storage.s3_inventory`): the same objects, as of the report's date.
    """
    if inventory:
        from airflow_ingest.storage.s3_inventory import list_inventory

        return list_inventory(source, inventory, conn_id, filters=filters)
    storage = storage_for(source, conn_id, timeout=timeout, threads=parallel, page_size=page_size)
    if source.scheme is Scheme.FILE:
        from airflow_ingest.storage.local import require_folder

        require_folder(source)
    if parallel > 1:
        objects = parallel_walk(storage, source, source.prefix, parallel)
    else:
        objects = storage.walk(source, source.prefix)
    wanted = filters or Filters()
    return (obj for obj in objects if wanted.accepts(obj))


def complete_target(
    target: dict[str, Any], source: Source, conn_id: str | None, *, builds_urls: bool
) -> dict[str, Any]:
    """Add what the platform's URLs need and the target left out: the S3 region, the Azure account.

    ``builds_urls`` is the platform's answer for this target (``Platform.builds_urls``): a platform that
    registers storage keys needs nothing from the storage. The storage is asked only when it must.
    """
    if not builds_urls:
        return target
    completed = dict(target)
    style = completed.get("url_style")
    if source.scheme is Scheme.S3 and not completed.get("region") and style in (None, "virtual-hosted", "path"):
        from airflow_ingest.storage.s3 import s3_bucket_region

        completed["region"] = s3_bucket_region(source.container, conn_id or DEFAULT_CONN_IDS[Scheme.S3])
    if source.scheme is Scheme.AZURE and not completed.get("account"):
        from airflow_ingest.storage.azure import azure_account_name

        completed["account"] = azure_account_name(conn_id or DEFAULT_CONN_IDS[Scheme.AZURE])
    return completed
