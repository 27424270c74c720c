"""One call builds the whole ingest in any DAG: list -> plan -> register -> report -> ledger and branch.

``ingest_task_group`` is the reusable unit the example DAGs are made of. Every argument is a template field of
the task it reaches, so ``"{{ params.prefix }}"`` works wherever a value does; only the platform (which
operator registers) and the Asset outlets must be known when the DAG is parsed.

Inside the group::

    list >> plan >> gate ─┬─> register (mapped, one per range of batches) >> report >> [commit, announce, branch]
                          └─> planned (dry run: the plan is the result)          branch >> [success, failures]

The report runs whatever the register tasks did (a failed batch is reported, not lost; a plan with no
batches gets an empty report); it skips itself in a group that did not run (another platform's, in
``ingest_manual``) and on a dry run, which skips what follows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import Asset, TaskGroup, XComArg

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.plan import REGISTER_TASKS
from airflow_ingest.operators.branching import BranchOnValueOperator
from airflow_ingest.operators.ledger import LedgerCommitOperator
from airflow_ingest.operators.listing import ListObjectsOperator
from airflow_ingest.operators.planning import PlanBatchesOperator
from airflow_ingest.operators.reporting import (
    IngestAnnounceOperator,
    IngestBranchOperator,
    IngestFailuresOperator,
    IngestReportOperator,
)
from airflow_ingest.pipeline.ledger_store import KEEP_LEDGERS
from airflow_ingest.platforms import get_platform


def register_operator(platform: str) -> tuple[type[Any], str]:
    """The platform's register operator (imported only when a DAG uses it) and its connection argument."""
    try:
        declared = get_platform(platform)
    except ConfigError as error:
        raise ValueError(str(error)) from None
    return declared.operator_class(), declared.conn_arg


REGISTER_RETRIES = 2
"""Retries of a register task by default: each resumes where the last attempt's outcome files stop."""

REGISTER_RETRY_DELAY = timedelta(seconds=15)
"""The wait before a register task's retry. Airflow's default (``[core] default_task_retry_delay``, 300 s) would
keep the account's pool slot idle for five minutes after a lost worker; a retry is cheap and safe here (it skips
the batches with outcome files), and rate limits are the client's to pace, not the retry delay's."""


def platform_asset(platform: str, target: dict[str, Any], register_kwargs: dict[str, Any] | None = None) -> Asset:
    """The Asset standing for one platform target, ``x-airflow-ingest://{platform}/{target}``.

    Downstream DAGs schedule on it to hear when new items were registered there. The ``x-`` scheme is
    Airflow's mark for a custom scheme: any other makes Airflow load every provider to look for its URI
    normaliser, which slowed every parse of a DAG file (README, Benchmarks).
    """
    fields = {**target, **(register_kwargs or {})}
    try:
        keys = get_platform(platform).target_keys
    except ConfigError as error:
        raise ValueError(str(error)) from None
    name = next((str(fields[key]) for key in keys if fields.get(key)), None)
    if name is None:
        raise ValueError(f"cannot name the {platform} target {fields}: give one of {', '.join(keys)}")
    return Asset(uri=f"x-airflow-ingest://{platform}/{name}", name=f"{platform}/{name}", group="airflow-ingest")


def _pushed(task: Any, key: str) -> Any:
    """A value ``task`` pushes under ``key``; typed Any because templated fields take XComArgs for strings."""
    return XComArg(task, key=key)


def ingest_task_group(
    group_id: str,
    *,
    source: str,
    platform: str,
    target: dict[str, Any],
    platform_conn_id: str,
    conn_id: str | None = None,
    register_kwargs: dict[str, Any] | None = None,
    layout: str = "file",
    include: Sequence[str] | str | None = None,
    exclude: Sequence[str] | str | None = None,
    inventory: str | None = None,
    max_entries: int | str | None = None,
    max_bytes: int | str | None = None,
    state: str | None = None,
    sync_name: str | None = None,
    keep_ledgers: int = KEEP_LEDGERS,
    on_change: str = "report",
    fail_on: str = "any",
    dry_run: bool | str = False,
    pool: str | None = None,
    register_tasks: int | str = REGISTER_TASKS,
    register_retries: int = REGISTER_RETRIES,
    register_retry_delay: timedelta = REGISTER_RETRY_DELAY,
    probe: bool | str = False,
    thumbnails: bool | str = False,
    probe_cache: str | None = None,
    outlets: Sequence[Asset] = (),
) -> TaskGroup:
    """Build the ingest of ``source`` into ``platform`` as a task group and return it.

    :param source: ``s3://bucket/prefix``, ``gs://...``, ``az://container/prefix``.
    :param inventory: list from this S3 Inventory report instead of LIST calls (see :class:`ListObjectsOperator`).
    :param platform: ``darwin``, ``encord`` or ``redbrick`` (fixed at parse time: it picks the operator).
    :param target: the platform's document options, as :class:`PlanBatchesOperator` takes them.
    :param platform_conn_id: the platform connection (``darwin``, ``encord`` or ``redbrick`` type).
    :param register_kwargs: more arguments for the platform's register operator (e.g. Encord's folder and
        integration, RedBrick's project id).
    :param pool: the Airflow pool the register tasks run in; one pool per platform account, sized so the
        account's rate limit holds across workers (see the README).
    :param register_tasks: how many mapped register tasks share the plan's batches (each takes a contiguous
        range); the pool decides how many run at once.
    :param register_retries: Airflow retries of a register task. Safe by design: a retry resumes at the first
        batch without an outcome file, so a worker lost mid-run (OOM-killed, node drained) costs one batch resent,
        not a failed run. Errors a retry cannot fix (refused credentials, a wrong target) fail at once without
        retrying.
    :param register_retry_delay: the wait before each retry of a register task. A lost worker is noticed after
        ``[scheduler] task_instance_heartbeat_timeout``; this delay comes on top (see the README's multi-worker
        section for the settings).
    :param state: where ledgers live (a folder or ``s3://conn_id@bucket/path``, ``gs://...``, ``abfs://...``).
    :param sync_name: the ledger's folder under ``state``; by default one per destination (platform, account,
        dataset / folder / project, storage, bucket), recorded in its ``HEAD.json``.
    :param keep_ledgers: ledger files kept after each commit (at least 2, for ``ledger repair``).
    :param probe: read each new file's header to fill Darwin read-only sizes and Encord image/video metadata,
        and order DICOM slices by their headers (see :class:`PlanBatchesOperator`).
    :param thumbnails: V7 Darwin read-only: write thumbnails and video frames to the bucket (implies ``probe``).
    :param probe_cache: the probe cache folder on the workers (default under ``$AIRFLOW_HOME``).
    :param outlets: Assets to update when the run registered something (e.g. one per platform target).
    """
    operator, conn_arg = register_operator(platform)
    destination = get_platform(platform).destination_of(register_kwargs or {})  # with the conn: the ledger's
    destination["platform_conn_id"] = platform_conn_id
    with TaskGroup(group_id=group_id) as group:
        listing = ListObjectsOperator(
            task_id="list", source=source, conn_id=conn_id, include=include, exclude=exclude, inventory=inventory
        )
        plan = PlanBatchesOperator(
            task_id="plan",
            objects_path=_pushed(listing, "objects_path"),
            platform=platform,
            target=target,
            layout=layout,
            max_entries=max_entries,
            max_bytes=max_bytes,
            state=state,
            sync_name=sync_name,
            destination=destination,
            on_change=on_change,
            register_tasks=register_tasks,
            probe=probe,
            thumbnails=thumbnails,
            probe_cache=probe_cache,
        )
        run_dir = _pushed(listing, "run_dir")  # None, not an error, when the group was skipped
        register = operator.partial(
            task_id="register",
            run_dir=run_dir,
            map_index_template="{{ task.batch_label }}",
            retries=register_retries,
            retry_delay=register_retry_delay,
            **({"pool": pool} if pool else {}),
            **{conn_arg: platform_conn_id},
            **(register_kwargs or {}),
        ).expand(batches=plan.output)
        planned = EmptyOperator(task_id="planned")
        gate = BranchOnValueOperator(  # a dry run stops after the plan: its manifests and plan.json are the result
            task_id="gate",
            value=dry_run,
            branches={"true": planned.task_id, "false": register.task_id},
            flag=True,
        )
        report = IngestReportOperator(task_id="report", run_dir=run_dir, plan_only=dry_run)
        commit = LedgerCommitOperator(
            task_id="commit",
            run_dir=run_dir,
            state=state,
            sync_name=sync_name,
            destination=destination,
            keep_ledgers=keep_ledgers,
            platform=platform,
            target=target,
            trigger_rule="none_skipped",
        )
        announce = IngestAnnounceOperator(task_id="announce", report=report.output, outlets=list(outlets))
        branch = IngestBranchOperator(
            task_id="branch",
            report=report.output,
            success_task_ids=f"{group.group_id}.success",
            failure_task_ids=f"{group.group_id}.failures",
        )
        success = EmptyOperator(task_id="success")
        failures = IngestFailuresOperator(task_id="failures", report=report.output, fail_on=fail_on)

        plan >> gate >> [register, planned]
        register >> report >> [commit, announce, branch]
        branch >> [success, failures]
    return group
