"""Register one batch of tasks into a Label Studio project, exactly once, with one outcome per item.

Label Studio creates whatever it is sent, again and again. So each round first looks the batch's tasks up by
their markers (``data.airflow_ingest``) and sends only the ones the project lacks: a task found before anything
was sent is a ``duplicate`` (an earlier run, or a run killed after sending, made it), one found after this call
sent it is ``registered``. An answer that is lost (a reset, a timeout, a 5xx or 429 after the server may have
acted) is never resent blindly: the next round looks first. Should a slow server commit a request after its
lookup came back empty, the tasks would be created twice; the round after a lost answer therefore looks again
once the resend is answered and deletes the later copy of any task it finds twice.

The labeling config decides the data key (:func:`fit_tasks`): tasks it cannot show are ``blocked`` before
anything is sent. A 400 naming some tasks blocks those and sends the rest again; one naming none blocks all.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from airflow_ingest.core.errors import ConfigError, PlatformAuthError, PlatformError, optional_int
from airflow_ingest.core.outcomes import Outcome, OutcomeKind
from airflow_ingest.hooks.retries import Transient, retry_seconds
from airflow_ingest.platforms.base import SendContext, Sender
from airflow_ingest.platforms.labelstudio.answers import created_count, import_job, refused_tasks
from airflow_ingest.platforms.labelstudio.documents import MARKER, fit_tasks, object_tags
from airflow_ingest.platforms.labelstudio.hook import ImportRefused, LabelStudioHook
from airflow_ingest.platforms.labelstudio.target import LabelStudioTarget

JOB_WAIT = 600.0
"""How long to follow an asynchronous import (Label Studio Enterprise) before looking its tasks up anyway."""


def item_ids_of(tasks: Sequence[Mapping[str, Any]], item_ids: Sequence[str] | None) -> list[str]:
    """The plan's item ids for the tasks, else the ids the tasks carry in ``meta``."""
    if item_ids is not None and len(item_ids) == len(tasks):
        return [str(i) for i in item_ids]
    return [str(t.get("meta", {}).get(MARKER, {}).get("item") or t["data"][MARKER]) for t in tasks]


def send_batch(
    hook: LabelStudioHook,
    project_id: int,
    body: str,
    item_ids: Sequence[str] | None = None,
    *,
    data_key: str | None = None,
) -> list[Outcome]:
    """Create the batch's tasks that ``project_id`` lacks; one outcome per task, in the manifest's order.

    Refused credentials or an unknown project raise :class:`PlatformAuthError` (every batch would fail alike).
    """
    tasks: list[dict[str, Any]] = json.loads(body)
    items = item_ids_of(tasks, item_ids)
    label_config = str(hook.project(project_id).get("label_config") or "")
    fitted, refused = fit_tasks(tasks, object_tags(label_config), data_key)
    done: dict[int, Outcome] = {n: Outcome(items[n], OutcomeKind.BLOCKED, reason) for n, reason in refused.items()}
    numbers = [n for n in range(len(tasks)) if n not in refused]
    pending: dict[int, dict[str, Any]] = dict(zip(numbers, fitted, strict=True))
    run = _Rounds(hook, project_id, items, done, pending)
    run.go()
    return [done[n] for n in range(len(tasks))]


class _Rounds:
    """The look-up-then-send rounds of one batch (see the module's docstring)."""

    def __init__(
        self,
        hook: LabelStudioHook,
        project_id: int,
        items: list[str],
        done: dict[int, Outcome],
        pending: dict[int, dict[str, Any]],
    ) -> None:
        self.hook, self.project_id, self.items, self.done, self.pending = hook, project_id, items, done, pending
        self.sent: set[int] = set()
        self.lost = False
        self.error = ""

    def settle(self, numbers: Sequence[int], kind: OutcomeKind, reason: str = "", retryable: bool = False) -> None:
        for n in numbers:
            self.done[n] = Outcome(self.items[n], kind, reason, retryable)
            self.pending.pop(n, None)

    def go(self) -> None:
        attempts = self.hook.max_attempts
        for round_number in range(1, attempts + 1):
            try:
                self.look_up()
            except PlatformAuthError:
                raise
            except PlatformError as error:
                self.settle(list(self.pending), OutcomeKind.FAILED, f"looking tasks up failed: {error}", True)
                return
            if not self.pending:
                return
            wait = self.send()
            if not self.pending:
                return
            if wait is not None and round_number < attempts:
                time.sleep(wait)
        reason = f"Label Studio gave no answer to trust after {attempts} attempts: {self.error}"
        self.settle(list(self.pending), OutcomeKind.FAILED, reason, True)

    def look_up(self) -> None:
        """Settle the pending tasks the project already holds: ``registered`` if sent here, else ``duplicate``."""
        markers = {n: str(task["data"][MARKER]) for n, task in self.pending.items()}
        found = self.hook.find_tasks(self.project_id, markers.values())
        for n, mark in markers.items():
            if mark in found:
                self.settle([n], OutcomeKind.REGISTERED if n in self.sent else OutcomeKind.DUPLICATE)

    def send(self) -> float | None:
        """Send the pending tasks once; return how long to wait before the next round (None: go on at once)."""
        numbers = list(self.pending)
        try:
            answer = self.hook.import_tasks(self.project_id, [self.pending[n] for n in numbers])
        except ImportRefused as error:
            refused = refused_tasks(error.body, len(numbers))
            for position, reason in refused.items():
                self.settle([numbers[position]], OutcomeKind.BLOCKED, reason)
            return None
        except Transient as error:  # the server may have created them: look before sending again
            self.sent.update(numbers)
            self.lost = True
            self.error = str(error)
            self.hook.log.warning(
                "Import of %d tasks got no answer to trust (%s); looking them up", len(numbers), error
            )
            hint = retry_seconds(error.retry_after)
            policy = self.hook.policy
            return min(hint, policy.wait_max) if hint is not None else min(policy.wait_initial * 2, policy.wait_max)
        except PlatformAuthError:
            raise
        except PlatformError as error:
            self.settle(numbers, OutcomeKind.FAILED, str(error), error.retryable)
            return None
        self.sent.update(numbers)
        job = import_job(answer)
        if job is not None:
            self.follow(job)
            return None
        if created_count(answer) == len(numbers):
            if self.lost:
                self.drop_copies(numbers)
            self.settle(numbers, OutcomeKind.REGISTERED)
        return None

    def follow(self, job: int) -> None:
        """Wait for an asynchronous import to end; the next round's lookup says what it created."""
        deadline = time.monotonic() + JOB_WAIT
        delay = 0.5
        while time.monotonic() < deadline:
            state = self.hook.import_status(self.project_id, job)
            if state.get("status") in ("completed", "failed"):
                return
            time.sleep(delay)
            delay = min(delay * 2, 10.0)

    def drop_copies(self, numbers: Sequence[int]) -> None:
        """After a resend that followed a lost answer, delete the later copy of any task now found twice."""
        markers = [str(self.pending[n]["data"][MARKER]) for n in numbers]
        for mark, ids in self.hook.find_tasks(self.project_id, markers).items():
            for extra in sorted(ids)[1:]:
                self.hook.log.warning(
                    "Task %s duplicates task %s (%s) after a lost answer: deleted", extra, min(ids), mark
                )
                self.hook.delete_task(extra)


def sender(hook: LabelStudioHook, target: LabelStudioTarget, register: Mapping[str, Any]) -> Sender:
    """``register`` may hold ``project_id`` (else the connection's ``extra.project_id``)."""
    project_id = project_of(register.get("project_id"), hook)

    def send(ctx: SendContext) -> list[Outcome]:
        return send_batch(hook, project_id(), ctx.text(), ctx.item_ids(), data_key=target.data_key)

    return send


def project_of(given: Any, hook: LabelStudioHook) -> Callable[[], int]:
    """The project id, checked now when given, read from the connection when first needed otherwise."""
    explicit = optional_int("project_id", given)
    if explicit is not None and explicit < 1:
        raise ConfigError("project_id", given, "use the project's id, the number in its URL (/projects/<id>/)")

    def resolve() -> int:
        if explicit is not None:
            return explicit
        fallback = optional_int("extra.project_id", hook.extra.get("project_id"))
        if fallback is None or fallback < 1:
            raise ConfigError("project_id", given, "pass the project's id, or set extra.project_id on the connection")
        return fallback

    return resolve
