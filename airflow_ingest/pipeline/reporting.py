"""The end of a run: the report from the outcomes, and the ledger commit of what got registered.

Every planned item gets a row: its outcome, or ``failed`` when its batch left no outcome file (a task killed, a
key refused), so nothing goes missing. The report operator and ``airflow-ingest sync`` both call
:func:`report_run`; the ledger commit operator, ``sync`` and ``ledger repair --from-run`` take what a run
registered through :func:`run_entries`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

from airflow_ingest.core.ledger import Entry, sorted_entries
from airflow_ingest.core.plan import Plan
from airflow_ingest.core.report import RetryCut, registered_entries, write_report
from airflow_ingest.pipeline.ledger_store import LedgerStore
from airflow_ingest.pipeline.runs import read_plan


@dataclass(frozen=True)
class Report:
    """Where the report went and what it counted; ``retry`` lists the retry manifests' paths."""

    csv: Any
    json: Any
    totals: dict[str, int]
    retry: list[str]

    @property
    def has_problems(self) -> bool:
        return bool(self.totals["failed"] or self.totals["blocked"])


def report_run(run: Any, plan: Plan, *, retry: RetryCut, **fields: object) -> Report:
    """Write ``report.csv``, ``report.json`` (with the platform and ``fields``) and the retry manifests.

    ``retry`` cuts a batch's manifest down to its retryable items in the platform's own format; the caller
    takes it from the registry (``get_platform(plan.platform).retry_cut(run, plan)``), which sits above this layer.
    """
    totals, manifests = write_report(run, plan, retry=retry, platform=plan.platform, **fields)
    return Report(run / "report.csv", run / "report.json", totals, manifests)


def run_entries(runs: Iterable[Any]) -> Iterator[Entry]:
    """The registered and duplicate objects of these run folders, sorted by url (as a ledger commit takes them).

    Every run's plan is read first, so a folder that is not a run is refused before anything is merged.
    """
    plans = [(run, read_plan(run)) for run in runs]
    return sorted_entries(chain.from_iterable(registered_entries(run, plan) for run, plan in plans))


def commit_run(store: LedgerStore, run: Any, run_id: str, plan: Plan | None = None) -> dict[str, Any]:
    """Merge what the run registered into the ledger; the new head (``{"ledger", "entries", ...}``).

    ``plan`` is the run's plan when the caller holds it already (else it is read from the run).
    """
    if plan is None:
        return store.commit(run_id, run_entries([run]))
    return store.commit(run_id, sorted_entries(registered_entries(run, plan)))
