"""List a cloud source into the run's workspace as ``objects.jsonl.gz``; XCom gets the path and counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowFailException

from airflow_ingest.core.errors import ConfigError, StorageError
from airflow_ingest.core.objects import write_objects
from airflow_ingest.core.urls import parse_source
from airflow_ingest.hooks.storage import list_objects
from airflow_ingest.operators.progress import logged
from airflow_ingest.operators.workspace import run_dir


class ListObjectsOperator(BaseOperator):
    """Stream every object under ``source`` into ``{workspace}/{dag_id}/{run_id}/objects.jsonl.gz``.

    :param source: ``s3://bucket/prefix`` to list. (templated)
    :param conn_id: the storage connection; defaults to the scheme's provider default (``aws_default``). (templated)
    :param workspace: where run artifacts go, any ``ObjectStoragePath`` URI; defaults to a folder under
        ``$AIRFLOW_HOME``. (templated)
    :param page_size: objects per listing request.
    :return: ``{"run_dir", "objects_path", "source", "objects", "bytes"}``, a few hundred bytes whatever the size.
    """

    template_fields: Sequence[str] = ("source", "conn_id", "workspace")
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        source: str,
        conn_id: str | None = None,
        workspace: str | None = None,
        page_size: int = 1000,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.source = source
        self.conn_id = conn_id
        self.workspace = workspace
        self.page_size = page_size

    def execute(self, context: Context) -> dict[str, Any]:
        try:
            source = parse_source(self.source)
        except ConfigError as error:
            raise AirflowFailException(str(error)) from None
        base = run_dir(self.workspace, context["dag"].dag_id, context["run_id"])
        base.mkdir(parents=True, exist_ok=True)
        path = base / "objects.jsonl.gz"
        self.log.info("Listing %s into %s", source.uri, path)
        try:
            with path.open("wb") as stream:
                objects = logged(list_objects(source, self.conn_id, page_size=self.page_size), self.log, "listed")
                summary = write_objects(objects, stream)
        except StorageError as error:
            path.unlink(missing_ok=True)
            raise AirflowFailException(str(error)) from None
        self.log.info("Listed %d objects, %d bytes, under %s", summary.count, summary.bytes, source.uri)
        return {
            "run_dir": str(base),
            "objects_path": str(path),
            "source": source.uri,
            "objects": summary.count,
            "bytes": summary.bytes,
        }
