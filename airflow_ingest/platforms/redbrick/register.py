"""A RedBrick AI batch's registration: validate the items list's tasks, then create them one by one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_ingest.core.outcomes import Outcome
from airflow_ingest.core.redbrick import RedBrickTarget
from airflow_ingest.core.redbrick_results import VALIDATION_BUDGET
from airflow_ingest.hooks.redbrick import RedBrickHook, register_batch
from airflow_ingest.platforms.base import SendContext, Sender


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
