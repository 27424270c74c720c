"""A V7 Darwin batch's registration: one ``register_existing`` request per manifest."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from airflow_ingest.core.errors import PlatformAuthError, PlatformError
from airflow_ingest.core.outcomes import Outcome
from airflow_ingest.platforms.base import SendContext, Sender
from airflow_ingest.platforms.darwin.answers import darwin_failed, darwin_outcomes
from airflow_ingest.platforms.darwin.hook import DarwinHook
from airflow_ingest.platforms.darwin.target import DarwinTarget


def sender(hook: DarwinHook, target: DarwinTarget, register: Mapping[str, Any]) -> Sender:
    """``register["readonly"]`` overrides the target's endpoint choice (the manifests were written for one)."""
    given = register.get("readonly")
    readonly = bool(target.readonly) if given is None else bool(given)

    def send(ctx: SendContext) -> list[Outcome]:
        return register_batch(hook, ctx.text(), readonly=readonly)

    return send


def register_batch(hook: DarwinHook, body: str, *, readonly: bool = False) -> list[Outcome]:
    """One manifest's outcomes: V7's answer per item, or the same failure for every item of the batch.

    Refused credentials or an unknown team or dataset raise :class:`PlatformAuthError`: every other batch
    would fail the same way, so the caller should stop rather than record thousands of failures.
    """
    payload = json.loads(body)
    try:
        return darwin_outcomes(payload, hook.register_existing(body, readonly=readonly))
    except PlatformAuthError:
        raise
    except PlatformError as error:
        hook.log.error("Batch of %d items failed: %s", len(payload["items"]), error)
        return darwin_failed(payload, str(error), retryable=error.retryable)
