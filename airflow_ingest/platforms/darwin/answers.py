"""V7's answers to ``register_existing`` turned into one outcome per item, and the retry payload.

The answer lists ``items`` that were registered and ``blocked_items`` with ``slots[].reason``;
``ALREADY_EXISTS`` means the (path, name) is taken, which a re-run treats as a duplicate, not a failure.
"""

from __future__ import annotations

import json
from typing import Any

from airflow_ingest.core.outcomes import Outcome, OutcomeKind, cut_short, raw_text

ALREADY_EXISTS = "ALREADY_EXISTS"


def item_id(path: str, name: str) -> str:
    """The same identity as :attr:`Item.id`, rebuilt from a payload or an answer."""
    return f"{path.rstrip('/')}/{name}"


def darwin_outcomes(payload: dict[str, Any], answer: Any) -> list[Outcome]:
    """One outcome per item sent, from a 200 answer of any shape; an item the answer does not mention is ``failed``.

    Items are matched by (path, name), V7's identity within a dataset; an answer that omits ``path`` is
    matched by name alone. Whatever V7 sends (entries that are not objects, ``slots`` that are not a list,
    reasons that are not text), every item still ends as exactly one outcome; an item left unmentioned quotes
    the answer, cut short, so a report shows what V7 said.
    """
    sent = [item_id(i["path"], i["name"]) for i in payload["items"]]
    by_name = {i["name"]: item_id(i["path"], i["name"]) for i in payload["items"]}

    def resolve(entry: Any) -> str | None:
        if not isinstance(entry, dict):
            return None
        name = entry.get("name")
        if not isinstance(name, str):
            return None
        path = entry.get("path")
        if isinstance(path, str):
            return item_id(path, name)
        return by_name.get(name)

    found: dict[str, Outcome] = {}
    for entry in _entries(answer, "items"):
        ident = resolve(entry)
        if ident is not None:
            found[ident] = Outcome(ident, OutcomeKind.REGISTERED)
    for entry in _entries(answer, "blocked_items"):
        ident = resolve(entry)
        if ident is None:
            continue
        reasons = sorted(_slot_reasons(entry.get("slots")))
        if reasons == [ALREADY_EXISTS]:
            found[ident] = Outcome(ident, OutcomeKind.DUPLICATE, ALREADY_EXISTS)
        else:
            reason = cut_short("; ".join(reasons), 1000) or "blocked without a reason"
            found[ident] = Outcome(ident, OutcomeKind.BLOCKED, reason)
    if all(ident in found for ident in sent):
        return [found[ident] for ident in sent]
    unmentioned = f"V7 answered 200 but did not mention this item (answer: {raw_text(answer)})"
    return [found.get(ident) or Outcome(ident, OutcomeKind.FAILED, unmentioned, retryable=True) for ident in sent]


def _entries(answer: Any, field: str) -> list[Any]:
    """``answer[field]`` when it is a list, else nothing: a mis-shaped answer mentions no item."""
    entries = answer.get(field) if isinstance(answer, dict) else None
    return entries if isinstance(entries, list) else []


def _slot_reasons(slots: Any) -> set[str]:
    """The reasons of a blocked entry's slots, whatever their shape (V7 documents ``slots[].reason``)."""
    if not isinstance(slots, list):
        slots = [slots] if isinstance(slots, dict) else []
    reasons = set()
    for slot in slots:
        reason = slot.get("reason") if isinstance(slot, dict) else None
        if reason:
            reasons.add(reason if isinstance(reason, str) else raw_text(reason))
    return reasons


def darwin_retry(body: str, retry: set[str]) -> str | None:
    """The same payload holding only the items in ``retry`` (by item id), or None when none are left."""
    payload = json.loads(body)
    payload["items"] = [i for i in payload["items"] if item_id(i["path"], i["name"]) in retry]
    return json.dumps(payload, ensure_ascii=False) if payload["items"] else None


def darwin_failed(payload: dict[str, Any], reason: str, *, retryable: bool) -> list[Outcome]:
    """The same failure for every item of a request that got no usable answer."""
    return [Outcome(item_id(i["path"], i["name"]), OutcomeKind.FAILED, reason, retryable) for i in payload["items"]]
