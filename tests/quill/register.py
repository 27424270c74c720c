"""Quill's Sender: an item already on the shelf is a duplicate, the others are registered."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from airflow_ingest.core.outcomes import Outcome, OutcomeKind
from airflow_ingest.platforms.base import SendContext, Sender
from tests.quill import QuillTarget
from tests.quill.hook import QuillHook


def sender(hook: QuillHook, target: QuillTarget, register: Mapping[str, Any]) -> Sender:
    drawer = register.get("drawer") or "top"

    def send(ctx: SendContext) -> list[Outcome]:
        held = hook.held()
        entries = json.loads(ctx.text())
        hook.put([{**entry, "shelf": target.shelf, "drawer": drawer} for entry in entries if entry["id"] not in held])
        return [
            Outcome(entry["id"], OutcomeKind.DUPLICATE if entry["id"] in held else OutcomeKind.REGISTERED)
            for entry in entries
        ]

    return send


def retry_manifest(ctx: SendContext, items: set[str]) -> str | None:
    kept = [entry for entry in json.loads(ctx.text()) if entry["id"] in items]
    return json.dumps(kept) if kept else None
