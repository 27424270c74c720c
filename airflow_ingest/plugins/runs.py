"""Where the Ingest view finds a run's reports: the report tasks' XComs, then the files they name.

The report task pushes the paths of ``report.csv`` and ``report.json`` (and its totals) to XCom, so the view
needs no configuration and finds reports wherever a task wrote them: the deployment's workspace, a workspace
given to one task, local or object storage. A run's XComs are a few per task (references and counts), so
reading them all is one small query. The index of each ``report.csv`` is cached, keyed by the path and the
report XCom's timestamp, so a report task that runs again is read again and paging never re-reads a file.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_ingest.core.report_view import ReportIndex, index_report

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

REPORT_KEY = "report_json"
"""The key that marks a report task: :class:`IngestReportOperator` pushes each returned field separately."""

VIEW_LINK_KEY = "_link_IngestViewLink"
CACHED_REPORTS = 8
HISTORY_RUNS = 90


@dataclass
class RunReport:
    """One ingest group's report in a run, from its tasks' XComs (``group`` is the task group id, or "")."""

    group: str
    report_task: str
    values: dict[str, Any]
    stamp: datetime | None
    run_dir: str | None = None
    links: dict[str, str] = field(default_factory=dict)
    ledger: dict[str, Any] | None = None

    @property
    def report_csv(self) -> str | None:
        value = self.values.get("report_csv")
        return str(value) if value else None

    def task(self, name: str) -> str:
        return f"{self.group}.{name}" if self.group else name


def group_of(task_id: str) -> str:
    return task_id.rpartition(".")[0]


def _value(raw: Any) -> Any:
    """An XCom value as stored: JSON text (written through ``serialize_value``) or already decoded JSON."""
    from airflow.models.xcom import XComModel

    class _Row:
        value = raw

    return XComModel.deserialize_value(_Row)


def run_reports(session: Session, dag_id: str, run_id: str) -> list[RunReport]:
    """Every ingest group of the run that has listed or reported, with its report fields, links and ledger."""
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    rows = session.execute(
        select(XComModel.task_id, XComModel.key, XComModel.value, XComModel.timestamp).where(
            XComModel.dag_id == dag_id, XComModel.run_id == run_id
        )
    ).all()
    by_task: dict[str, dict[str, tuple[Any, datetime]]] = {}
    for task_id, key, raw, stamp in rows:
        by_task.setdefault(task_id, {})[key] = (raw, stamp)
    groups: dict[str, RunReport] = {}
    for task_id, keys in by_task.items():
        if REPORT_KEY in keys:
            group = group_of(task_id)
            values = {key: _value(raw) for key, (raw, _) in keys.items()}
            groups[group] = RunReport(group, task_id, values, keys[REPORT_KEY][1])
    for task_id, keys in by_task.items():  # listed but not reported yet: the run is still going
        if "run_dir" in keys and "objects_path" in keys and group_of(task_id) not in groups:
            group = group_of(task_id)
            groups[group] = RunReport(group, "", {}, None)
    for report in groups.values():
        listing = by_task.get(report.task("list"), {})
        if "run_dir" in listing:
            report.run_dir = _value(listing["run_dir"][0])
        elif report.values.get("report_json"):
            report.run_dir = str(report.values["report_json"]).rpartition("/")[0]
        commit = by_task.get(report.task("commit"), {}).get("return_value")
        if commit:
            value = _value(commit[0])
            report.ledger = value if isinstance(value, dict) and "sync_name" in value else None
        for task_id, keys in by_task.items():
            if group_of(task_id) != report.group:
                continue
            for key, (raw, _) in keys.items():
                if key.startswith("_link_") and key != VIEW_LINK_KEY:
                    url = _value(raw)
                    if isinstance(url, str) and url.startswith(("http://", "https://")):
                        report.links.setdefault(url, key.removeprefix("_link_").removesuffix("Link"))
    return sorted(groups.values(), key=lambda r: r.group)


def report_groups(session: Session, dag_id: str) -> list[str]:
    """The task groups of ``dag_id`` whose report task has reported at least once."""
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    tasks = session.scalars(
        select(XComModel.task_id).where(XComModel.dag_id == dag_id, XComModel.key == REPORT_KEY).distinct()
    ).all()
    return sorted({group_of(task) for task in tasks})


def group_history(session: Session, dag_id: str, group: str, limit: int = HISTORY_RUNS) -> list[dict[str, Any]]:
    """The last ``limit`` runs of the group that reported, oldest first: their totals and the ledger's size."""
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    report_task = f"{group}.report" if group else "report"
    commit_task = f"{group}.commit" if group else "commit"
    runs = session.execute(
        select(DagRun.run_id, DagRun.run_after, DagRun.state, XComModel.value)
        .join(XComModel, XComModel.dag_run_id == DagRun.id)
        .where(XComModel.dag_id == dag_id, XComModel.task_id == report_task, XComModel.key == "totals")
        .order_by(DagRun.run_after.desc())
        .limit(limit)
    ).all()
    ledgers: dict[str, Any] = dict(
        session.execute(
            select(XComModel.run_id, XComModel.value).where(
                XComModel.dag_id == dag_id,
                XComModel.task_id == commit_task,
                XComModel.key == "return_value",
                XComModel.run_id.in_([run.run_id for run in runs]),
            )
        ).all()
    )
    history = []
    for run_id, run_after, state, raw in reversed(runs):
        ledger = _value(ledgers[run_id]) if run_id in ledgers else None
        history.append(
            {
                "run_id": run_id,
                "run_after": run_after.isoformat() if run_after else None,
                "state": str(state.value if hasattr(state, "value") else state),
                "totals": _value(raw),
                "ledger": ledger if isinstance(ledger, dict) else None,
            }
        )
    return history


class ReportCache:
    """The last few reports' indexes, so paging and searching a 100,000-item report never re-reads it."""

    def __init__(self, size: int = CACHED_REPORTS) -> None:
        self._size = size
        self._indexes: OrderedDict[tuple[str, str], ReportIndex] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, report: RunReport) -> ReportIndex | None:
        if not report.report_csv:
            return None
        key = (report.report_csv, str(report.stamp))
        with self._lock:
            if key in self._indexes:
                self._indexes.move_to_end(key)
                return self._indexes[key]
        index = read_index(report.report_csv)
        with self._lock:
            self._indexes[key] = index
            while len(self._indexes) > self._size:
                self._indexes.popitem(last=False)
        return index


def storage_path(path: str) -> Any:
    from airflow.sdk import ObjectStoragePath

    return ObjectStoragePath(path)


def read_index(report_csv: str) -> ReportIndex:
    with storage_path(report_csv).open("r", encoding="utf-8", newline="") as stream:
        return index_report(stream)


def read_plan_target(run_dir: str) -> dict[str, Any]:
    """The plan's platform and target (dataset, storage, URL style...), for the page's heading."""
    from airflow_ingest.pipeline.runs import read_plan_heading

    return read_plan_heading(storage_path(run_dir))


def retry_manifests(report: RunReport) -> list[str]:
    """The names of the run's retry manifests (``retry/batch-NNNNN.json``), in batch order."""
    retry_dir = report.values.get("retry_dir")
    if not retry_dir:
        return []
    folder = storage_path(str(retry_dir))
    if not folder.exists():
        return []
    return sorted(child.name for child in folder.iterdir())
