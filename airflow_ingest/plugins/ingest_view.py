"""The Airflow plugin: the Ingest view's app, its tab on DAG runs and DAGs, and its entry in the menu.

Registered through the ``airflow.plugins`` entry point in ``pyproject.toml``, so installing the package is
enough. (A provider's ``plugins`` list in ``get_provider_info`` is read only when ``[core]
lazy_discover_providers`` is off, and naming the plugin in both places would register it twice there.)
Airflow's UI shows ``external_views`` with ``destination="dag_run"`` as a tab of the run page, an iframe on
``href`` with ``{DAG_ID}`` and ``{RUN_ID}`` filled in; ``url_route`` names the tab's path
(``/dags/<dag>/runs/<run>/plugin/ingest``), which :class:`IngestViewLink` opens.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from airflow_ingest.plugins.app import PREFIX, create_app

RUN_ROUTE = "ingest"
DAG_ROUTE = "ingest-history"
NAV_ROUTE = "ingest-runs"


class IngestViewPlugin(AirflowPlugin):
    name = "airflow_ingest_view"
    fastapi_apps = [{"app": create_app(), "url_prefix": PREFIX, "name": "airflow-ingest: the Ingest view"}]
    external_views = [
        {
            "name": "Ingest",
            "href": f"{PREFIX}/runs/{{DAG_ID}}/{{RUN_ID}}",
            "destination": "dag_run",
            "url_route": RUN_ROUTE,
        },
        {
            "name": "Ingest history",
            "href": f"{PREFIX}/dags/{{DAG_ID}}",
            "destination": "dag",
            "url_route": DAG_ROUTE,
        },
        {
            "name": "Ingest",
            "href": f"{PREFIX}/",
            "destination": "nav",
            "category": "browse",
            "url_route": "ingest-runs",
        },
    ]
