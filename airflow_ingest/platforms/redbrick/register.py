"""A RedBrick AI batch's registration: validate the items list's tasks, then create them one by one."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from airflow_ingest.core.errors import ConfigError, PlatformAuthError, PlatformError
from airflow_ingest.core.outcomes import Outcome, cut_short
from airflow_ingest.platforms.base import SendContext, Sender
from airflow_ingest.platforms.redbrick.answers import (
    VALIDATION_BUDGET,
    VALIDATION_CHUNK,
    PlannedTask,
    Verdict,
    VerdictKind,
    colliding_names,
    created,
    creation_refused,
    failed_all,
    in_plan_order,
    planned_tasks,
    sort_out,
    validation_verdict,
)
from airflow_ingest.platforms.redbrick.graphql import RedBrickRefusal, check_uuid
from airflow_ingest.platforms.redbrick.hook import RedBrickHook
from airflow_ingest.platforms.redbrick.target import DIRECT_UPLOAD, RedBrickTarget


def sender(hook: RedBrickHook, target: RedBrickTarget, register: Mapping[str, Any]) -> Sender:
    """``register`` may hold ``project_id`` (else the connection's), ``storage_id`` (else the target's) and
    ``validation_budget``."""
    project_id = register.get("project_id") or None
    storage_id = str(register.get("storage_id") or target.storage_id)
    budget = int(register.get("validation_budget") or VALIDATION_BUDGET)

    def send(ctx: SendContext) -> list[Outcome]:
        return register_batch(
            hook, ctx.text(), project_id, storage_id, item_ids=ctx.item_ids(), validation_budget=budget
        )

    return send


def register_batch(
    hook: RedBrickHook,
    body: str,
    project_id: str | None,
    storage_id: str,
    *,
    item_ids: Sequence[str] | None = None,
    validation_budget: int = VALIDATION_BUDGET,
) -> list[Outcome]:
    """Create one items list's tasks in a RedBrick project; one outcome per task, in the manifest's order.

    :param body: the items list (a batch manifest written by :class:`RedBrickManifests`).
    :param project_id: the project; None takes the connection's ``extra.project_id``.
    :param storage_id: the storage method the items paths refer to (the plan's ``storage_id``).
    :param item_ids: the plan's item ids for this batch, in order (``read_batch_index``); without them the
        id is ``"/" + task name``, which holds for every item the planner makes from keys without a leading
        slash (see :func:`planned_tasks`).
    :param validation_budget: validation calls allowed to narrow an invalid batch down to its bad tasks.

    Validation goes in chunks of at most ``VALIDATION_CHUNK`` (10) tasks whatever the batch size, as
    redbrick-sdk 2.35 sends them; each chunk's verdict settles only its own tasks.

    Refused credentials, an unknown organization or project raise :class:`PlatformAuthError`: every other
    batch would fail the same way, so the caller should stop rather than record thousands of failures.
    """
    project = project_id or hook.default_project_id
    if not project:
        raise ConfigError("project_id", project_id, "pass the project's id, or set extra.project_id on the connection")
    storage_id = check_uuid("storage_id", storage_id, "RedBrick's Storage tab (11111111-... for public URLs)")
    if storage_id == DIRECT_UPLOAD:
        raise ConfigError("storage_id", storage_id, "direct upload reads local files; use an external storage method")
    tasks = json.loads(body)
    planned = planned_tasks(tasks, item_ids)
    try:
        hook.project(project)
    except PlatformAuthError:
        raise
    except PlatformError as error:
        hook.log.error("Batch of %d tasks failed: %s", len(planned), error)
        return failed_all(planned, str(error), retryable=error.retryable)
    unique, collided = colliding_names(planned)

    def validate(group: Sequence[PlannedTask]) -> Verdict:
        try:
            return validation_verdict(hook.validate([t.task for t in group], storage_id))
        except PlatformAuthError:
            raise
        except RedBrickRefusal as error:
            return Verdict(VerdictKind.REFUSED, str(error))
        except PlatformError as error:
            return Verdict(VerdictKind.FAILED, str(error), retryable=error.retryable)

    checked = sort_out(unique, validate, budget=validation_budget, chunk=VALIDATION_CHUNK)
    chunks = -(-len(unique) // VALIDATION_CHUNK)
    if checked.calls > chunks:
        hook.log.warning(
            "Batch of %d tasks failed validation; narrowed it down in %d calls", len(planned), checked.calls
        )

    def create(entry: tuple[PlannedTask, Mapping[str, Any]]) -> Outcome:
        task, point = entry
        try:
            return created(task.item, hook.create_datapoint(project, storage_id, point))
        except PlatformAuthError:
            raise
        except RedBrickRefusal as error:
            return creation_refused(task.item, str(error), hook.duplicate_pattern)
        except PlatformError as error:
            return failed_all([task], str(error), retryable=error.retryable)[0]
        except (KeyError, TypeError, AttributeError, ValueError) as error:  # a converted task of an odd shape
            reason = (
                f"RedBrick's converted task could not be sent ({type(error).__name__}: {cut_short(str(error), 200)})"
            )
            return failed_all([task], reason, retryable=True)[0]

    with ThreadPoolExecutor(max_workers=min(hook.concurrency, max(1, len(checked.ready)))) as pool:
        futures = [pool.submit(create, entry) for entry in checked.ready]
        try:
            made = [future.result() for future in futures]
        except PlatformAuthError:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return in_plan_order(planned, [*collided, *checked.settled, *made])
