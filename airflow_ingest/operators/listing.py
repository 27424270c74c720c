"""List a cloud source into the run's workspace as ``objects.jsonl.gz``; XCom gets the path and counts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowFailException

from airflow_ingest.core.errors import ConfigError, StorageError, optional_int
from airflow_ingest.core.filters import Filters, parse_when
from airflow_ingest.core.objects import write_objects
from airflow_ingest.core.urls import parse_source
from airflow_ingest.operators.progress import logged
from airflow_ingest.operators.workspace import run_dir
from airflow_ingest.storage.listing import list_objects


class ListObjectsOperator(BaseOperator):
    """Stream every object under ``source`` into ``{workspace}/{dag_id}/{run_id}/objects.jsonl.gz``.

    :param source: ``s3://bucket/prefix``, ``gs://bucket/prefix``, ``az://container/prefix`` (the storage
        account comes from the connection) or ``file:///abs/dir``. (templated)
    :param conn_id: the storage connection; defaults to ``aws_default``, ``google_cloud_default`` or
        ``wasb_default`` by scheme. (templated)
    :param include: globs on the whole key, any of which must match (``**/*.dcm``). (templated)
    :param exclude: globs on the whole key, none of which may match. (templated)
    :param min_size: smallest object size in bytes. (templated)
    :param max_size: largest object size in bytes. (templated)
    :param modified_since: only objects modified at or after this instant (ISO 8601 with a timezone). (templated)
    :param modified_before: only objects modified before this instant. (templated)
    :param parallel: list the prefix's sub-prefixes on this many threads (wide buckets); 1 lists sequentially.
    :param inventory: read the objects from the S3 Inventory report at this URI
        (``s3://dest-bucket/prefix/source-bucket/config-id/``, its newest report) instead of listing: the same
        objects as of the report's date, without a LIST call per 1,000 keys. Empty lists as usual. (templated)
    :param workspace: where run artifacts go, any ``ObjectStoragePath`` URI; defaults to a folder under
        ``$AIRFLOW_HOME``. (templated)
    :param page_size: objects per listing request; None asks for the cloud's largest page (1,000 on S3 and GCS,
        5,000 on Azure).
    :return: ``{"run_dir", "objects_path", "source", "objects", "bytes"}``, a few hundred bytes whatever the size.
    """

    template_fields: Sequence[str] = (
        "source",
        "conn_id",
        "workspace",
        "include",
        "exclude",
        "min_size",
        "max_size",
        "modified_since",
        "modified_before",
        "inventory",
    )
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        source: str,
        conn_id: str | None = None,
        workspace: str | None = None,
        include: Sequence[str] | str | None = None,
        exclude: Sequence[str] | str | None = None,
        min_size: int | str | None = None,
        max_size: int | str | None = None,
        modified_since: str | datetime | None = None,
        modified_before: str | datetime | None = None,
        parallel: int = 1,
        page_size: int | None = None,
        inventory: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.source = source
        self.conn_id = conn_id
        self.workspace = workspace
        self.include = include
        self.exclude = exclude
        self.min_size = min_size
        self.max_size = max_size
        self.modified_since = modified_since
        self.modified_before = modified_before
        self.parallel = parallel
        self.page_size = page_size
        self.inventory = inventory

    def execute(self, context: Context) -> dict[str, Any]:
        try:
            source = parse_source(self.source)
            filters = Filters(
                include=_globs(self.include),
                exclude=_globs(self.exclude),
                min_size=optional_int("min_size", self.min_size),
                max_size=optional_int("max_size", self.max_size),
                modified_since=parse_when(self.modified_since, "modified_since"),
                modified_before=parse_when(self.modified_before, "modified_before"),
            )
        except ConfigError as error:
            raise AirflowFailException(str(error)) from None
        group = self.task_id.rpartition(".")[0] or None  # "frames.list" lists for the group "frames"
        base = run_dir(self.workspace, context["dag"].dag_id, context["run_id"], group)
        base.mkdir(parents=True, exist_ok=True)
        path = base / "objects.jsonl.gz"
        inventory = str(self.inventory).strip() if self.inventory not in (None, "", "None") else None
        self.log.info("Listing %s into %s%s", source.uri, path, f" from the inventory {inventory}" if inventory else "")
        try:
            with path.open("wb") as stream:
                listing = list_objects(
                    source,
                    self.conn_id,
                    filters=filters,
                    page_size=self.page_size,
                    parallel=self.parallel,
                    inventory=inventory,
                )
                objects = logged(listing, self.log, "listed")
                summary = write_objects(objects, stream)
        except StorageError as error:
            path.unlink(missing_ok=True)
            raise AirflowFailException(str(error)) from None
        self.log.info("Listed %d objects, %d bytes, under %s", summary.count, summary.bytes, source.uri)
        record = {
            "source": source.uri,
            "conn_id": self.conn_id,
            "objects": summary.count,
            "bytes": summary.bytes,
            "filtered": filters.active,
            "inventory": inventory,
        }
        (base / "listing.json").write_text(json.dumps(record), encoding="utf-8")
        return {
            "run_dir": str(base),
            "objects_path": str(path),
            "source": source.uri,
            "objects": summary.count,
            "bytes": summary.bytes,
        }


def _globs(value: Sequence[str] | str | None) -> tuple[str, ...]:
    """One glob, a list of them, or a comma-free text from a form: always a tuple."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value if str(v))
