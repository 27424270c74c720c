"""The button on report and register tasks that opens the run's Ingest view (the plugin's tab on the run page)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk.types import TaskInstanceKey

VIEW_ROUTE = "ingest"
"""The ``url_route`` of the plugin's run tab (``airflow_ingest.plugins.ingest_view.RUN_ROUTE``)."""


def ingest_view_url(dag_id: str, run_id: str, base_url: str = "") -> str:
    """The run page's Ingest tab: ``{base_url}/dags/{dag_id}/runs/{run_id}/plugin/ingest``."""
    return f"{base_url.rstrip('/')}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}/plugin/{VIEW_ROUTE}"


class IngestViewLink(BaseOperatorLink):
    """Opens what the run did (counts, chart, failed items, retry manifests) in the Airflow UI's Ingest view.

    The URL is absolute when ``[api] base_url`` is set (as a deployment behind a proxy sets it), else a path
    on the Airflow UI's own host.
    """

    name: ClassVar[str] = "Ingest report"  # type: ignore[misc]

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk import conf

        return ingest_view_url(ti_key.dag_id, ti_key.run_id, str(conf.get("api", "base_url", fallback="") or ""))
