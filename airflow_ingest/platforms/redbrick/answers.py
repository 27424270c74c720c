"""RedBrick AI answers -> one outcome per planned item; never the SDK's silent drops.

redbrick-sdk validates an items list with ``validateAndConvertToImportFormat`` in chunks and, when one chunk
is invalid, logs a warning and uploads nothing at all; a ``createDatapoint`` that fails inside its wrapper
comes back as ``{}`` and is only logged. Here every planned task ends as exactly one :class:`Outcome`:

- a batch that fails validation is split in halves until each bad task stands alone (bounded by a budget of
  validation calls), so good tasks still go through and bad ones are ``blocked`` with RedBrick's reason;
- a request RedBrick refuses as a whole (a GraphQL error such as an unknown storage method) blocks every
  task it held, with that reason;
- a created task is ``registered``; a name already in the project is ``duplicate`` (task names are unique
  per project, so a resend after a lost answer lands here too, which is what makes resending safe);
- an answer without a task id (the SDK's ``{}``) and transport trouble past the retries are ``failed`` and
  ``retryable``.

Pure: no Airflow, no network. The hook supplies the calls (``validate``) and these functions decide.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.outcomes import Outcome, OutcomeKind, cut_short, raw_text

DEFAULT_DUPLICATE_PATTERN = r"(?i)already exists|already taken|duplicate|not unique|must be unique"
"""How a ``createDatapoint`` refusal for a name already in the project is recognised. RedBrick does not
document the message (the SDK only says "Name must be unique in the project"); connections can override it."""

NO_TASK_ID = "RedBrick answered createDatapoint without a task id (redbrick-sdk reports this as {})"


VALIDATION_BUDGET = 100
"""Validation calls per batch at most: twice the default 50 tasks, enough to isolate every bad task."""

VALIDATION_CHUNK = 10
"""Tasks per ``validateAndConvertToImportFormat`` call at most, whatever the batch size: redbrick-sdk 2.35's
chunk (2.28 sent 50), so no request is larger than the ones the current SDK makes RedBrick answer."""


@dataclass(frozen=True, slots=True)
class PlannedTask:
    """One task of a batch's items list and the plan item it stands for."""

    item: str
    task: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.task["name"])


def planned_tasks(tasks: Sequence[Mapping[str, Any]], item_ids: Sequence[str] | None = None) -> list[PlannedTask]:
    """Pair each task with its plan item id.

    With ``item_ids`` (the batch's lines of the plan's ``items.jsonl``, in order) the pairing is by position,
    which is exact; each id must still match its task's name (the id without its leading ``/``, or without
    all of them as :class:`RedBrickManifests` writes it today). Without
    them, the id is rebuilt as ``"/" + name``: item ids always start with ``/`` (an item's folder does), and
    :class:`RedBrickManifests` names a task by its id with the leading slashes removed.
    """
    if item_ids is None:
        return [PlannedTask("/" + str(task["name"]), task) for task in tasks]
    if len(item_ids) != len(tasks):
        raise ConfigError(
            "item_ids",
            f"{len(item_ids)} ids for {len(tasks)} tasks",
            "pass the batch's own lines of items.jsonl (read_batch_index) with its manifest",
        )
    for item, task in zip(item_ids, tasks, strict=True):
        if task["name"] not in (item[1:], item.lstrip("/")):
            raise ConfigError(
                "item_ids", item, f"the manifest's task at this position is named {task['name']!r}; use its batch"
            )
    return [PlannedTask(item, task) for item, task in zip(item_ids, tasks, strict=True)]


def colliding_names(planned: Sequence[PlannedTask]) -> tuple[list[PlannedTask], list[Outcome]]:
    """Split off the tasks whose name an earlier task of the batch already uses.

    Two items can map to one task name (``/a/x.png`` and ``//a/x.png``); RedBrick would take the first and
    answer the second with a name conflict, which would then pass for a duplicate. Blocked here instead.
    """
    first: dict[str, str] = {}
    keep: list[PlannedTask] = []
    blocked: list[Outcome] = []
    for task in planned:
        if task.name in first:
            reason = f"task name {task.name!r} is also the name of item {first[task.name]!r}; rename one of them"
            blocked.append(Outcome(task.item, OutcomeKind.BLOCKED, reason))
            continue
        first[task.name] = task.item
        keep.append(task)
    return keep, blocked


class VerdictKind(str, Enum):
    VALID = "valid"
    INVALID = "invalid"
    """``isValid: false``: at least one task of the call is bad; which one is not said."""
    REFUSED = "refused"
    """A GraphQL error: RedBrick refused the request itself (unknown storage, malformed variables)."""
    FAILED = "failed"
    """No verdict: transport trouble past the retries, or an answer without ``isValid``."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one ``validateAndConvertToImportFormat`` call said about the tasks it was given."""

    kind: VerdictKind
    error: str = ""
    converted: tuple[Mapping[str, Any], ...] = ()
    retryable: bool = False


def validation_verdict(answer: Any) -> Verdict:
    """A verdict from the query's ``validateAndConvertToImportFormat`` object (``{isValid, error, converted}``).

    Any other shape (not an object, an ``isValid`` that is not a boolean, a ``converted`` that is not a list
    of tasks) is no verdict: ``failed`` and retryable, quoting what came, cut short.
    """
    if not isinstance(answer, Mapping) or answer.get("isValid") is None:
        return Verdict(
            VerdictKind.FAILED, f"RedBrick's validation answer has no isValid: {raw_text(answer)}", retryable=True
        )
    valid = answer["isValid"]
    if not isinstance(valid, bool):
        return Verdict(
            VerdictKind.FAILED, f"RedBrick's isValid is not true or false: {raw_text(valid)}", retryable=True
        )
    if not valid:
        error = answer.get("error")
        text = (error if isinstance(error, str) else raw_text(error)) if error else ""
        return Verdict(VerdictKind.INVALID, one_line(text or "invalid items list (RedBrick gave no reason)"))
    converted = answer.get("converted")
    if not converted:
        return Verdict(VerdictKind.VALID)
    try:
        points = json.loads(converted) if isinstance(converted, str) else converted
    except (ValueError, RecursionError):
        return Verdict(
            VerdictKind.FAILED, f"RedBrick's converted items list is not JSON: {raw_text(converted)}", retryable=True
        )
    if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
        reason = f"RedBrick's converted items list is not a list of tasks: {raw_text(points)}"
        return Verdict(VerdictKind.FAILED, reason, retryable=True)
    return Verdict(VerdictKind.VALID, converted=tuple(points))


@dataclass(frozen=True, slots=True)
class Sorted:
    """A batch after validation: tasks ready to create (with their converted point) and settled outcomes."""

    ready: list[tuple[PlannedTask, Mapping[str, Any]]]
    settled: list[Outcome]
    calls: int


def sort_out(
    planned: Sequence[PlannedTask],
    validate: Callable[[Sequence[PlannedTask]], Verdict],
    *,
    budget: int,
    chunk: int = VALIDATION_CHUNK,
) -> Sorted:
    """Validate ``planned`` in chunks of at most ``chunk`` tasks, narrowing an invalid chunk down to its bad
    tasks by halving, in ``budget`` calls.

    Each chunk stands alone, as the SDK's do: a chunk RedBrick refuses or that fails in transit settles only
    its own tasks. Every chunk gets its one call; halving finds ``k`` bad tasks among ``n`` in about
    ``2k log2(n/k)`` calls and never more than ``2n - 1``, so a budget of twice the batch size always narrows
    fully; a smaller budget leaves the tasks of a group it could not split ``failed`` (retryable: a smaller
    retry manifest narrows further).
    """
    if budget < 1:
        raise ConfigError("validation_budget", budget, "allow at least 1 validation call per batch")
    if chunk < 1:
        raise ConfigError("chunk", chunk, "validate at least 1 task per call")
    ready: list[tuple[PlannedTask, Mapping[str, Any]]] = []
    settled: list[Outcome] = []
    calls = 0
    pending: list[Sequence[PlannedTask]] = [planned[start : start + chunk] for start in range(0, len(planned), chunk)]
    while pending:
        group = pending.pop(0)
        if calls >= budget:
            reason = f"not validated within {budget} validation calls: resend the retry manifest"
            settled.extend(Outcome(t.item, OutcomeKind.FAILED, reason, retryable=True) for t in group)
            continue
        calls += 1
        verdict = validate(group)
        if verdict.kind is VerdictKind.VALID:
            matched, missing = converted_points(group, verdict.converted)
            ready.extend(matched)
            settled.extend(missing)
        elif verdict.kind is VerdictKind.REFUSED:
            settled.extend(Outcome(t.item, OutcomeKind.BLOCKED, verdict.error) for t in group)
        elif verdict.kind is VerdictKind.FAILED:
            settled.extend(Outcome(t.item, OutcomeKind.FAILED, verdict.error, verdict.retryable) for t in group)
        elif len(group) == 1:
            settled.append(Outcome(group[0].item, OutcomeKind.BLOCKED, verdict.error))
        elif calls + len(pending) + 2 > budget:
            reason = (
                f"RedBrick refused a group of {len(group)} tasks holding this one ({verdict.error}); "
                f"not narrowed down within {budget} validation calls: resend the retry manifest"
            )
            settled.extend(Outcome(t.item, OutcomeKind.FAILED, reason, retryable=True) for t in group)
        else:
            half = len(group) // 2
            pending += [group[:half], group[half:]]
    return Sorted(ready, settled, calls)


def converted_points(
    group: Sequence[PlannedTask], converted: Sequence[Mapping[str, Any]]
) -> tuple[list[tuple[PlannedTask, Mapping[str, Any]]], list[Outcome]]:
    """Each task's converted point, matched by name; a valid answer without conversion keeps a flat task as is.

    A series-form task needs RedBrick's conversion (``createDatapoint`` takes a flat ``items`` list and
    ``seriesInfo``): without one it is ``failed`` rather than sent in a shape RedBrick would not take.
    """
    by_name = {p["name"]: p for p in converted if isinstance(p.get("name"), str)}
    matched: list[tuple[PlannedTask, Mapping[str, Any]]] = []
    missing: list[Outcome] = []
    for task in group:
        point = by_name.get(task.name)
        if point is None and not converted and isinstance(task.task.get("items"), list):
            point = task.task
        if point is None or not _flat_items(point.get("items")) or not _sendable(point):
            reason = "RedBrick validated the items list but returned no converted task for this one"
            missing.append(Outcome(task.item, OutcomeKind.FAILED, reason, retryable=True))
        else:
            matched.append((task, point))
    return matched, missing


def _sendable(point: Mapping[str, Any]) -> bool:
    """The converted fields ``createDatapoint``'s variables are built from have the shapes they need."""
    for field in ("seriesInfo", "centerline"):
        value = point.get(field)
        if value and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            return False
    return True


def _flat_items(items: object) -> bool:
    return isinstance(items, list) and bool(items) and all(isinstance(i, str) and i for i in items)


def created(item: str, answer: Any) -> Outcome:
    """The outcome of a ``createDatapoint`` that answered (any shape): registered with a task id, else a
    retryable failure quoting what came instead."""
    if isinstance(answer, Mapping) and answer.get("dpId"):
        return Outcome(item, OutcomeKind.REGISTERED)
    if not answer:
        return Outcome(item, OutcomeKind.FAILED, NO_TASK_ID, retryable=True)
    return Outcome(item, OutcomeKind.FAILED, f"{NO_TASK_ID}: {raw_text(answer)}", retryable=True)


def creation_refused(item: str, message: str, duplicate_pattern: str = DEFAULT_DUPLICATE_PATTERN) -> Outcome:
    """A ``createDatapoint`` GraphQL error: the name already in the project is a duplicate, anything else blocks."""
    message = one_line(message)
    if re.search(duplicate_pattern, message):
        return Outcome(item, OutcomeKind.DUPLICATE, f"a task of this name is already in the project ({message})")
    return Outcome(item, OutcomeKind.BLOCKED, message)


def failed_all(planned: Sequence[PlannedTask], reason: str, *, retryable: bool) -> list[Outcome]:
    """The same failure for every task of a batch that got no usable answer."""
    return [Outcome(t.item, OutcomeKind.FAILED, reason, retryable) for t in planned]


def in_plan_order(planned: Sequence[PlannedTask], outcomes: Sequence[Outcome]) -> list[Outcome]:
    """Exactly one outcome per planned task, in the manifest's order; a task left without one is ``failed``.

    The last word wins when a task has two (it cannot, by construction; this keeps the promise regardless).
    """
    by_item = {o.item: o for o in outcomes}
    lost = "the register step recorded no outcome for this task"
    return [by_item.get(t.item) or Outcome(t.item, OutcomeKind.FAILED, lost, retryable=True) for t in planned]


def one_line(text: str, limit: int = 500) -> str:
    """RedBrick's messages can span lines (the SDK joins several errors with newlines); reports want one."""
    return cut_short(text, limit)


def redbrick_retry(body: str, retry: set[str]) -> str | None:
    """The same items list holding only the tasks of the items in ``retry`` (plan item ids), or None if none.

    For a retry manifest: the register step resends exactly those tasks; tasks that did land in the
    meantime come back as duplicates.
    """
    names = {item[1:] for item in retry} | {item.lstrip("/") for item in retry}
    kept = [task for task in json.loads(body) if task["name"] in names]
    return json.dumps(kept, ensure_ascii=False) if kept else None
