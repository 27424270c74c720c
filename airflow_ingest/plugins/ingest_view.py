"""The Airflow plugin: the Ingest view's app, its tab on DAG runs and DAGs, and its entry in the menu.

Registered through the ``airflow.plugins`` entry point in ``pyproject.toml``, so installing the package is
enough. (A provider's ``plugins`` list in ``get_provider_info`` is read only when ``[core]
lazy_discover_providers`` is off, and naming the plugin in both places would register it twice there.)
Airflow's UI shows ``external_views`` with ``destination="dag_run"`` as a tab of the run page, an iframe on
``href`` with ``{DAG_ID}`` and ``{RUN_ID}`` filled in; ``url_route`` names the tab's path
(``/dags/<dag>/runs/<run>/plugin/ingest``), which :class:`~airflow_ingest.operators.links.IngestViewLink` opens.

Every Airflow process loads plugins, task processes included (for macros), so this module stays cheap: the
FastAPI app (and the api-server modules it needs) is built on the first request the api-server sends it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from airflow.plugins_manager import AirflowPlugin

from airflow_ingest.operators.links import VIEW_ROUTE

PREFIX = "/ingest"
DAG_ROUTE = "ingest-history"
NAV_ROUTE = "ingest-runs"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class LazyApp:
    """An ASGI app that builds the view's FastAPI app when the api-server first calls it."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            from airflow_ingest.plugins.app import create_app

            self._app = create_app()
        await self._app(scope, receive, send)


class IngestViewPlugin(AirflowPlugin):
    name = "airflow_ingest_view"
    fastapi_apps = [{"app": LazyApp(), "url_prefix": PREFIX, "name": "airflow-ingest: the Ingest view"}]
    external_views = [
        {
            "name": "Ingest",
            "href": f"{PREFIX}/runs/{{DAG_ID}}/{{RUN_ID}}",
            "destination": "dag_run",
            "url_route": VIEW_ROUTE,
        },
        {"name": "Ingest history", "href": f"{PREFIX}/dags/{{DAG_ID}}", "destination": "dag", "url_route": DAG_ROUTE},
        {"name": "Ingest", "href": f"{PREFIX}/", "destination": "nav", "category": "browse", "url_route": NAV_ROUTE},
    ]
