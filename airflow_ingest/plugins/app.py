"""The Ingest view's FastAPI app, mounted by the api-server under :data:`PREFIX`.

Pages: ``/`` (recent runs), ``/runs/{dag_id}/{run_id}`` (what a run did), ``/dags/{dag_id}`` (each ingest
group's nights and its ledger: a group is one platform target). API: ``/api/runs/{dag_id}/{run_id}`` (the summary
as JSON), ``/api/dags/{dag_id}`` and
``/api/runs/{dag_id}/{run_id}/problems`` (a page of failed and blocked items, searched on the server).
``/runs/{dag_id}/{run_id}/retry/{group}/{name}`` serves a retry manifest. Every route asks Airflow's auth
manager whether the signed-in user may read the DAG's XComs (the reports are task results); the browser's
session cookie is what it checks, so the pages work inside the UI's frame without another login.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

# At module level: FastAPI resolves the routes' (string) annotations in this module's namespace.
from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse

from airflow_ingest.plugins import pages
from airflow_ingest.plugins.ingest_view import PREFIX
from airflow_ingest.plugins.runs import (
    ReportCache,
    RunReport,
    group_history,
    read_plan_target,
    report_groups,
    retry_manifests,
    run_reports,
    storage_path,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

RETRY_NAME = re.compile(r"^batch-\d{5,}\.(json|csv)$")
RECENT_RUNS = 50

CACHE = ReportCache()


def _base(request: Request) -> str:
    return str(request.scope.get("root_path") or PREFIX)


def _reports(session: Session, dag_id: str, run_id: str, group: str | None = None) -> list[RunReport]:
    reports = run_reports(session, dag_id, run_id)
    if group is not None:
        reports = [r for r in reports if r.group == group]
        if not reports:
            raise HTTPException(404, f"run {run_id} of {dag_id} has no ingest group {group!r}")
    return reports


def summary(report: RunReport) -> dict[str, Any]:
    """One group's report as JSON: what the page shows above the problems table."""
    index = CACHE.get(report)
    target = read_plan_target(report.run_dir) if report.run_dir else {}
    return {
        "group": report.group,
        "platform": target.get("platform"),
        "target": target.get("target"),
        "report_csv": report.report_csv,
        "totals": index.totals if index else None,
        "objects": report.values.get("objects"),
        "skipped": report.values.get("skipped"),
        "batches": report.values.get("batches"),
        "chart": index.chart() if index else [],
        "problems": len(index.problems) if index else 0,
        "retry_manifests": retry_manifests(report),
        "links": [{"name": name, "url": url} for url, name in report.links.items()],
        "ledger": report.ledger,
    }


def create_app() -> FastAPI:
    readable = [Depends(requires_access_dag("GET", DagAccessEntity.XCOM))]
    app = FastAPI(title="airflow-ingest: the Ingest view", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/", response_class=HTMLResponse)
    def recent(request: Request, session: SessionDep, user: GetUserDep) -> str:
        allowed = get_auth_manager().get_authorized_dag_ids(user=user, method="GET")
        return pages.index_page(recent_runs(session, allowed), _base(request))

    @app.get("/runs/{dag_id}/{run_id}", response_class=HTMLResponse, dependencies=readable)
    def run_view(request: Request, dag_id: str, run_id: str, session: SessionDep) -> str:
        sections = []
        for report in _reports(session, dag_id, run_id):
            index = CACHE.get(report)
            target = read_plan_target(report.run_dir) if report.run_dir else {}
            retries = retry_manifests(report) if index else []
            sections.append(pages.report_section(dag_id, run_id, report, index, target, retries))
        return pages.run_page(dag_id, run_id, sections, _base(request))

    @app.get("/api/runs/{dag_id}/{run_id}", dependencies=readable)
    def run_summary(dag_id: str, run_id: str, session: SessionDep) -> dict[str, Any]:
        return {"dag_id": dag_id, "run_id": run_id, "groups": [summary(r) for r in _reports(session, dag_id, run_id)]}

    @app.get("/api/runs/{dag_id}/{run_id}/problems", dependencies=readable)
    def problems(
        dag_id: str,
        run_id: str,
        session: SessionDep,
        group: str = "",
        q: str = "",
        outcome: str = "",
        page: Annotated[int, Query(ge=1)] = 1,
        size: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> dict[str, Any]:
        (report,) = _reports(session, dag_id, run_id, group)
        index = CACHE.get(report)
        if index is None:
            raise HTTPException(404, f"group {group!r} of run {run_id} has no report yet")
        try:
            return index.page(query=q, outcome=outcome, page=page, size=size)
        except ValueError as error:
            raise HTTPException(400, str(error)) from None

    @app.get("/runs/{dag_id}/{run_id}/retry/{group}/{name}", response_class=PlainTextResponse, dependencies=readable)
    def retry_manifest(dag_id: str, run_id: str, group: str, name: str, session: SessionDep) -> PlainTextResponse:
        if not RETRY_NAME.match(name):
            raise HTTPException(400, f"name={name!r} is not a retry manifest: they are named batch-NNNNN.json")
        (report,) = _reports(session, dag_id, run_id, "" if group == "_" else group)
        if name not in retry_manifests(report):
            raise HTTPException(404, f"run {run_id} has no retry manifest {name} in group {group}")
        body = (storage_path(str(report.values["retry_dir"])) / name).read_text(encoding="utf-8")
        media = "application/json" if name.endswith(".json") else "text/csv"
        return PlainTextResponse(body, media_type=media, headers={"Content-Disposition": f'inline; filename="{name}"'})

    @app.get("/dags/{dag_id}", response_class=HTMLResponse, dependencies=readable)
    def dag_view(request: Request, dag_id: str, session: SessionDep) -> str:
        sections = [
            pages.history_section(dag_id, group, group_history(session, dag_id, group))
            for group in report_groups(session, dag_id)
        ]
        return pages.history_page(dag_id, sections, _base(request))

    @app.get("/api/dags/{dag_id}", dependencies=readable)
    def dag_history(dag_id: str, session: SessionDep) -> dict[str, Any]:
        return {
            "dag_id": dag_id,
            "groups": {group: group_history(session, dag_id, group) for group in report_groups(session, dag_id)},
        }

    return app


def recent_runs(session: Session, dag_ids: set[str], limit: int = RECENT_RUNS) -> list[dict[str, Any]]:
    """The latest reports of the DAGs the user may read, newest first."""
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    from airflow_ingest.plugins.runs import _value, group_of

    rows = session.execute(
        select(XComModel.dag_id, XComModel.run_id, XComModel.task_id, XComModel.value)
        .where(XComModel.key == "totals", XComModel.dag_id.in_(dag_ids), XComModel.task_id.like("%report"))
        .order_by(XComModel.timestamp.desc())
        .limit(limit)
    ).all()
    return [
        {"dag_id": dag_id, "run_id": run_id, "group": group_of(task_id), "totals": _value(raw) or {}}
        for dag_id, run_id, task_id, raw in rows
    ]
