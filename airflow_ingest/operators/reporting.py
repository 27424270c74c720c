"""The run's report, the branch on it, and the failure path's task.

The rows come from ``core.report``: every planned item, with its outcome, or ``failed`` when its batch
left no outcome file (a task killed, a key refused), so nothing goes missing.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import Any

from airflow.sdk import BaseBranchOperator, BaseOperator, Context, ObjectStoragePath, XComArg
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.flags import parse_flag
from airflow_ingest.core.outcomes import SUCCESSFUL, OutcomeKind
from airflow_ingest.operators.links import IngestViewLink
from airflow_ingest.pipeline.reporting import report_run
from airflow_ingest.pipeline.runs import PLAN_FILE, MissingRunFile, read_plan
from airflow_ingest.platforms import get_platform

FAIL_ON = ("any", "non_retryable", "never")


class IngestReportOperator(BaseOperator):
    """Write ``report.csv`` and ``report.json`` (one row per item, and totals) in the run folder.

    Runs whatever happened upstream (``trigger_rule="all_done"``), so a partial run is reported too.

    :param run_dir: the run folder from the plan's XCom. (templated)
    :param plan_only: a dry run: nothing was sent, so skip (and with it what follows). (templated)
    :return: ``{"report_csv", "report_json", "totals", "objects", "skipped", "batches", "retry_manifests",
        "retry_dir"}``: ``retry_dir`` holds ``retry_manifests`` manifests, the batches cut down to their
        retryable failures, ready to resend (a count and a folder: XCom stays small however many there are).
    """

    template_fields: Sequence[str] = ("run_dir", "plan_only")
    operator_extra_links = (IngestViewLink(),)
    ui_color = "#f3e8fd"

    def __init__(self, *, run_dir: str | None, plan_only: bool | str = False, **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", "all_done")
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.run_dir = run_dir
        self.plan_only = plan_only

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        """Resolve ``run_dir`` only when the task that pushes it ran.

        In a task group that a branch skipped (another platform's, in ``ingest_manual``) this task still runs
        (``all_done``); pulling the skipped listing's XCom would make the Task SDK log an ERROR
        ``XCom not found`` on every run. One question about the producer's state avoids it.
        """
        if producer_skipped(self.run_dir, context):
            self.run_dir = None
        super().render_template_fields(context, jinja_env)

    def execute(self, context: Context) -> dict[str, Any]:
        if not self.run_dir:
            raise AirflowSkipException("nothing was listed here (the group was skipped): nothing to report")
        base = ObjectStoragePath(self.run_dir)
        try:
            if parse_flag(self.plan_only, "plan_only"):
                raise AirflowSkipException(f"dry run: nothing was registered; the plan is {base / PLAN_FILE}")
            plan = read_plan(base)
        except MissingRunFile:
            raise AirflowFailException(
                f"no plan at {base / PLAN_FILE}: the plan task did not finish, so nothing to report"
            ) from None
        except ConfigError as error:
            raise AirflowFailException(str(error)) from None
        report = report_run(
            base,
            plan,
            retry=get_platform(plan.platform).retry_cut(base, plan),
            dag_id=context["dag"].dag_id,
            run_id=context["run_id"],
            objects=plan.objects,
            skipped=plan.skipped_count,
            batches=len(plan.batches),
            data_interval=data_interval(context),
        )
        totals, retry, csv_path, json_path = report.totals, report.retry, report.csv, report.json
        self.log.info(
            "Report %s\n%s", json_path, summary_table(plan.objects, len(plan.batches), plan.skipped_count, totals)
        )
        if retry:
            self.log.warning("%d retry manifests hold the retryable failures: %s", len(retry), retry[:10])
        return {
            "report_csv": str(csv_path),
            "report_json": str(json_path),
            "totals": totals,
            "objects": plan.objects,
            "skipped": plan.skipped_count,
            "batches": len(plan.batches),
            "retry_manifests": len(retry),
            "retry_dir": str(base / "retry") if retry else None,
        }


def producer_skipped(value: Any, context: Context) -> bool:
    """Whether ``value`` is an XCom reference (``XComArg``) to a task that this run skipped."""
    producer = getattr(value, "operator", None)
    if not isinstance(value, XComArg) or producer is None:
        return False
    run_id = context["run_id"]
    states = context["ti"].get_task_states(dag_id=context["dag"].dag_id, task_ids=[producer.task_id], run_ids=[run_id])
    return bool(states.get(run_id, {}).get(producer.task_id) == "skipped")


def data_interval(context: Context) -> list[str] | None:
    """The run's data interval as ISO strings: what a scheduled sync covered; None for a manual run."""
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is None or end is None:
        return None
    return [start.isoformat(), end.isoformat()]


def summary_table(objects: int, batches: int, skipped: int, totals: dict[str, int]) -> str:
    rows = [
        ("objects listed", objects),
        ("skipped", skipped),
        ("items", totals["items"]),
        ("batches", batches),
        *((kind.value, totals[kind.value]) for kind in OutcomeKind),
    ]
    return "\n".join(f"  {label:<16}{value:>12,}" for label, value in rows)


def has_problems(report: dict[str, Any]) -> bool:
    totals = report["totals"]
    return bool(totals["failed"] or totals["blocked"])


class IngestBranchOperator(BaseBranchOperator):
    """Follow ``success_task_ids`` when every item is registered or a duplicate, else ``failure_task_ids``.

    :param report: the report task's return value (pass ``report_task.output``).
    """

    template_fields: Sequence[str] = ("report",)

    def __init__(
        self,
        *,
        report: Any,
        success_task_ids: str | list[str],
        failure_task_ids: str | list[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.report = report
        self.success_task_ids = success_task_ids
        self.failure_task_ids = failure_task_ids

    def choose_branch(self, context: Context) -> str | Iterable[str]:
        if has_problems(self.report):
            self.log.warning("Items failed or were blocked; see %s", self.report["report_csv"])
            return self.failure_task_ids
        return self.success_task_ids


class IngestFailuresOperator(BaseOperator):
    """The failure path: log the report's path and first problems, then fail the run per ``fail_on``.

    :param report: the report task's return value.
    :param fail_on: ``any`` (default: any failed or blocked item fails the task), ``non_retryable`` (only
        blocked items and failures that a retry cannot fix) or ``never``. (templated)
    """

    template_fields: Sequence[str] = ("report", "fail_on")
    ui_color = "#fde8e8"

    def __init__(self, *, report: Any, fail_on: str = "any", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.report = report
        self.fail_on = fail_on

    def execute(self, context: Context) -> dict[str, Any]:
        if self.fail_on not in FAIL_ON:
            raise AirflowFailException(f"fail_on={self.fail_on!r} is invalid: use one of {', '.join(FAIL_ON)}")
        totals = self.report["totals"]
        self.log.warning(
            "%d failed (%d retryable) and %d blocked of %d items. Report: %s",
            totals["failed"],
            totals["retryable"],
            totals["blocked"],
            totals["items"],
            self.report["report_csv"],
        )
        if self.report.get("retry_dir"):
            self.log.warning(
                "  %d manifests in %s hold the retryable failures, ready to resend",
                self.report["retry_manifests"],
                self.report["retry_dir"],
            )
        for row in first_problems(ObjectStoragePath(self.report["report_csv"])):
            self.log.warning("  %-8s %s: %s", row["outcome"], row["item"], row["reason"])
        non_retryable = totals["blocked"] + totals["failed"] - totals["retryable"]
        if self.fail_on == "any" or (self.fail_on == "non_retryable" and non_retryable):
            raise AirflowFailException(
                f"{totals['failed'] + totals['blocked']} items were not registered; see {self.report['report_csv']}"
            )
        return dict(self.report)


def first_problems(report_csv: ObjectStoragePath, limit: int = 20) -> list[dict[str, str]]:
    successful = {kind.value for kind in SUCCESSFUL}
    problems: list[dict[str, str]] = []
    with report_csv.open("r", encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            if row["outcome"] not in successful:
                problems.append(row)
                if len(problems) >= limit:
                    break
    return problems


class IngestAnnounceOperator(BaseOperator):
    """Emit the task's ``outlets`` (the platform target's Asset) only when the run registered something.

    A skipped task emits no asset event, so downstream DAGs scheduled on the Asset run only when there is
    new data; the event's ``extra`` carries the counts and the report's path, never item lists.

    :param report: the report task's return value.
    """

    template_fields: Sequence[str] = ("report",)

    def __init__(self, *, report: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.report = report

    def execute(self, context: Context) -> dict[str, Any]:
        totals = self.report["totals"]
        if not totals["registered"]:
            raise AirflowSkipException("nothing new was registered: no asset event")
        extra = {
            "registered": totals["registered"],
            "items": totals["items"],
            "report_csv": self.report["report_csv"],
            "report_json": self.report["report_json"],
        }
        for outlet in self.outlets:
            context["outlet_events"][outlet].extra = extra
        self.log.info("Announcing %d registered items on %s", totals["registered"], self.outlets)
        return extra
