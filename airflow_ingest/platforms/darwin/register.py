"""A V7 Darwin batch's registration: one ``register_existing`` request per manifest."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_ingest.core.darwin import DarwinTarget
from airflow_ingest.core.outcomes import Outcome
from airflow_ingest.hooks.darwin import DarwinHook, register_batch
from airflow_ingest.platforms.base import SendContext, Sender


def sender(hook: DarwinHook, target: DarwinTarget, register: Mapping[str, Any]) -> Sender:
    """``register["readonly"]`` overrides the target's endpoint choice (the manifests were written for one)."""
    given = register.get("readonly")
    readonly = bool(target.readonly) if given is None else bool(given)

    def send(ctx: SendContext) -> list[Outcome]:
        return register_batch(hook, ctx.text(), readonly=readonly)

    return send
