"""The commands: ``ls``, ``plan``, ``sync`` and ``ledger repair``, each a thin shell over the pipeline.

Each takes the parsed options and the real stdout (data only) and returns the exit code; errors propagate to
:func:`airflow_ingest.cli.main`, which turns them into one stderr line and an exit code.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from airflow_ingest.cli.inputs import filtered, listing_from, media_request, register_args, target_from
from airflow_ingest.cli.progress import Progress, stderr_log
from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.objects import write_object_lines
from airflow_ingest.core.plan import clear_plan
from airflow_ingest.core.urls import Source, parse_source
from airflow_ingest.pipeline.planning import Planned, plan_run
from airflow_ingest.pipeline.registering import register_range
from airflow_ingest.pipeline.reporting import commit_run, report_run, run_entries
from airflow_ingest.pipeline.runs import PLAN_FILE, MissingRunFile

if TYPE_CHECKING:
    from airflow_ingest.media.stage import MediaStage

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PROBLEMS = 0, 1, 2, 3


def run_ls(args: argparse.Namespace, out: TextIO) -> int:
    objects = listing_from(args, parse_source(args.source))
    progress = Progress("ls")
    complete = False
    try:
        write_object_lines(progress.track(objects), out)
        complete = True
    finally:
        out.flush()
        progress.finish(complete)
    return EXIT_OK


def planner(args: argparse.Namespace, source: Source) -> tuple[dict[str, Any], Callable[..., Planned]]:
    """The platform's target, and ``plan_run`` with its limits and builder bound: all checked now, before listing."""
    from airflow_ingest.platforms import get_platform
    from airflow_ingest.storage.listing import complete_target

    platform = get_platform(args.platform)
    limits = platform.limits_for(args.max_entries, args.max_bytes)
    given = target_from(args)
    target = complete_target(given, source, args.conn_id, builds_urls=platform.builds_urls(given))
    builder = platform.manifest_builder(target)
    media = media_request(args, target)
    return target, functools.partial(
        plan_run, builder=builder, limits=limits, source=source, layout=args.layout, media=media
    )


def run_plan(args: argparse.Namespace, out: TextIO) -> int:
    source = parse_source(args.source)
    objects = listing_from(args, source)
    _, plan_objects = planner(args, source)
    progress = Progress("plan")
    folder = Path(args.out)
    stale = clear_plan(folder, manifest_dir="")
    if stale:
        print(f"note: removed {stale} files of an earlier plan in {folder}", file=sys.stderr)
    complete = False
    try:
        planned = plan_objects(progress.track(objects), folder=folder, manifest_dir="")
        complete = True
    finally:
        progress.finish(complete)
    for line in planned.plan.rejected:
        print(f"warning: no batch can hold it, skipped: {line}", file=sys.stderr)
    summary = {**planned.summary(), "plan": str(folder / PLAN_FILE), **media_summary(planned.stage)}
    out.write(json.dumps(summary) + "\n")
    return EXIT_OK


def run_sync(args: argparse.Namespace, out: TextIO) -> int:
    from airflow_ingest.pipeline.ledger_destination import store_for
    from airflow_ingest.platforms import get_platform

    source = parse_source(args.source)
    target, plan_objects = planner(args, source)
    objects = listing_from(args, source)
    register = register_args(args)
    # reads the platform connection: a malformed one stops here, before anything is listed
    platform = get_platform(args.platform)
    send = platform.sender_for(args.platform_conn_id, target, register)
    store = store_for(
        args.state, args.sync_name, args.platform, target, source, register,
        naming=platform.name_destination, keep=args.keep_ledgers,
    )  # fmt: skip
    store.ensure_writable()  # before anything is sent: a commit that cannot land would send it all again
    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    run = Path(args.runs) / run_id
    run.mkdir(parents=True, exist_ok=True)

    progress = Progress("sync")
    complete = False
    try:
        planned = plan_objects(
            progress.track(objects), folder=run, store=store, exhaustive=not filtered(args), on_change=args.on_change
        )
        plan = planned.plan
        if plan.batches:
            register_range(run, plan, 1, len(plan.batches), send, stderr_log("sync"))
        complete = True
    finally:
        progress.finish(complete)

    selection = planned.selection.counts if planned.selection is not None else {}
    report = report_run(
        run, plan, retry=get_platform(plan.platform).retry_cut(run, plan), run_id=run_id, selection=selection
    )
    head = commit_run(store, run, run_id, plan)
    summary = {
        "listed": progress.count,
        **selection,
        "items": plan.items,
        "skipped": plan.skipped_count,
        "batches": len(plan.batches),
        **{k: v for k, v in report.totals.items() if k != "items"},
        "ledger_entries": head["entries"],
        "report": str(report.csv),
        "retry_manifests": report.retry,
        **media_summary(planned.stage),
    }
    out.write(json.dumps(summary) + "\n")
    return EXIT_PROBLEMS if report.has_problems else EXIT_OK


def run_ledger_repair(args: argparse.Namespace, out: TextIO) -> int:
    """``ledger repair``: the store's repair, with the registered items of the runs named by ``--from-run``."""
    from airflow_ingest.pipeline.ledger_store import LedgerStore

    try:
        added = run_entries(Path(run) for run in args.from_run)
    except MissingRunFile as error:
        raise ConfigError(
            "--from-run", str(error.run), "give a sync run folder (it holds plan.json and outcomes/)"
        ) from None
    result = LedgerStore(args.state, args.sync_name).repair(
        "repair", ledger=args.ledger, add=added, allow_empty=args.allow_empty
    )
    out.write(json.dumps(result) + "\n")
    return EXIT_OK


def media_summary(stage: MediaStage | None) -> dict[str, object]:
    if stage is None:
        return {}
    print(f"media: {json.dumps(stage.stats.to_json())}", file=sys.stderr)
    return {"media": stage.stats.to_json()}
