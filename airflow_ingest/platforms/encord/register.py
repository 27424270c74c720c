"""An Encord batch's registration in-process: start (or resume) the batch's upload job and wait for it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_ingest.core.encord import EncordTarget
from airflow_ingest.core.encord_jobs import parse_destination
from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.outcomes import Outcome
from airflow_ingest.hooks.encord import EncordHook, register_batch
from airflow_ingest.platforms.base import SendContext, Sender


def sender(hook: EncordHook, target: EncordTarget, register: Mapping[str, Any]) -> Sender:
    """``register`` holds the destination: ``folder_uuid`` or ``dataset_hash``, ``integration_id``,
    ``ignore_errors``."""
    if target.format == "csv":
        raise ConfigError("format", "csv", "Encord's SDK registers JSON specs; use --format json to sync")
    destination = parse_destination(
        {key: register.get(key) for key in ("folder_uuid", "dataset_hash", "integration_id")}
        | {"ignore_errors": register.get("ignore_errors", True)}
    )

    def send(ctx: SendContext) -> list[Outcome]:
        return register_batch(hook, ctx.run, ctx.plan, ctx.number, destination, target)

    return send
