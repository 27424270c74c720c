"""Label Studio's answers, turned into one outcome per item.

An import is all or nothing: a ``400`` refuses the whole request, and names each task it could not take as
``"Error at item N: ..."`` in ``validation_errors.non_field_errors`` (one entry per task, ``{}`` for the good
ones). Those tasks are ``blocked`` with Label Studio's words; the rest were not created and go again without
them. A refusal that names no task (``load_tasks: No tasks added``, a body of another shape) blocks them all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_ingest.core.outcomes import Outcome, OutcomeKind, cut_short, raw_text

_AT_ITEM = re.compile(r"^Error at item (\d+):\s*(.*)$", re.DOTALL)
_ASSUME = " [assume:"


def error_detail(body: Any, fallback: str = "") -> str:
    """One line from an error body: ``detail`` and the validation errors, or the raw text."""
    if isinstance(body, Mapping):
        detail = body.get("detail")
        errors = body.get("validation_errors")
        parts = [str(detail)] if isinstance(detail, str) and detail else []
        if errors:
            parts.append(raw_text(errors, 600))
        if parts:
            return cut_short(": ".join(parts), 800)
    return raw_text(body, 300) if body not in (None, "") else fallback


def _messages(body: Any) -> list[Any]:
    if not isinstance(body, Mapping):
        return []
    errors = body.get("validation_errors", body)
    if isinstance(errors, Mapping):
        found = errors.get("non_field_errors")
        return list(found) if isinstance(found, list) else []
    return list(errors) if isinstance(errors, list) else []


def refused_tasks(body: Any, sent: int) -> dict[int, str]:
    """Which of the ``sent`` tasks a 400 refused, and why; every task when the answer names none."""
    refused: dict[int, str] = {}
    for entry in _messages(body):
        match = _AT_ITEM.match(entry) if isinstance(entry, str) else None
        if match and int(match.group(1)) < sent:
            reason = match.group(2).split(_ASSUME, 1)[0]
            refused[int(match.group(1))] = "Label Studio refused the task: " + cut_short(reason, 300)
    if not refused:
        whole = "Label Studio refused the import: " + error_detail(body, "HTTP 400")
        refused = dict.fromkeys(range(sent), whole)
    return refused


def created_count(body: Any) -> int | None:
    """``task_count`` of a synchronous import's answer (Label Studio Community), or None."""
    count = body.get("task_count") if isinstance(body, Mapping) else None
    return count if isinstance(count, int) and not isinstance(count, bool) else None


def import_job(body: Any) -> int | None:
    """The import job id of an asynchronous import's answer (Label Studio Enterprise: ``{"import": id}``)."""
    job = body.get("import") if isinstance(body, Mapping) else None
    return job if isinstance(job, int) and not isinstance(job, bool) else None


def outcomes(items: Sequence[str], kind: OutcomeKind, reason: str = "", retryable: bool = False) -> list[Outcome]:
    return [Outcome(item, kind, reason, retryable) for item in items]
