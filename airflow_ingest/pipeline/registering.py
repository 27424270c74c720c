"""Register a range of a plan's batches through a platform's Sender, resuming where outcomes already exist.

A batch whose outcome file exists is counted from it and not sent again: an Airflow retry of a task killed
part-way resumes at the batch it was on, a deferred task goes on after the triggerer hands it back, and a range
that finished is never sent twice. The register operators and ``airflow-ingest sync`` both call
:func:`register_range`; a platform supplies only the :class:`Sender` (one batch in, one outcome per item out).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.outcomes import Outcome, count_outcomes, outcome_totals
from airflow_ingest.core.plan import BatchInfo, Plan, read_batch_index
from airflow_ingest.core.report import outcome_path, read_outcomes, write_outcomes


class Log(Protocol):
    """What registration logs through: a ``logging.Logger``, an operator's ``self.log``, the CLI's stderr."""

    def info(self, event: Any, *args: Any, **kw: Any) -> Any: ...

    def warning(self, event: Any, *args: Any, **kw: Any) -> Any: ...


@dataclass
class SendContext:
    """What registering one batch of a planned run gets: where the run is, its plan, and which batch.

    ``run`` is a local :class:`~pathlib.Path` (the CLI) or an ``ObjectStoragePath`` (the operators); both read
    the same way. The manifest and the batch's item index are read only when the sender asks for them.
    """

    run: Any
    plan: Plan
    number: int

    @property
    def batch(self) -> BatchInfo:
        return self.plan.batches[self.number - 1]

    @property
    def manifest(self) -> Any:
        """The manifest's path (a job record or an outcome file goes beside it)."""
        return self.run / self.batch.path

    def text(self) -> str:
        """The batch's manifest, as the plan wrote it."""
        return str(self.manifest.read_text(encoding="utf-8"))

    @cached_property
    def lines(self) -> list[dict[str, Any]]:
        return read_batch_index(self.run, self.batch)

    def index(self) -> list[dict[str, Any]]:
        """The batch's lines of ``items.jsonl`` (``{"batch", "item", "objects"}``), read once."""
        return self.lines

    def item_ids(self) -> list[str]:
        return [str(line["item"]) for line in self.index()]


class Sender(Protocol):
    """Registers one batch: one outcome per item, in plan order.

    Per-item trouble (a refusal, a transient failure past the retries) is an outcome, never an exception;
    :class:`~airflow_ingest.core.errors.PlatformAuthError` and :class:`~airflow_ingest.core.errors.ConfigError`
    are raised, since every other batch would fail the same way.
    """

    def __call__(self, ctx: SendContext) -> list[Outcome]: ...


def check_range(plan: Plan, first: int, last: int, where: Any) -> None:
    """Refuse a range outside the plan's batches (a hand-written ``batches`` or another run's plan)."""
    if not 1 <= first <= last <= len(plan.batches):
        fix = f"it is outside the plan's batches 1-{len(plan.batches)} in {where}"
        raise ConfigError("batches", [first, last], fix)


def recorded(run: Any, plan: Plan, number: int) -> Any:
    """Where batch ``number``'s outcomes are written (beside its manifest)."""
    return outcome_path(run / plan.batches[number - 1].path)


def pending_batch(run: Any, plan: Plan, first: int, last: int) -> int | None:
    """The first batch of the range without outcomes: where a retried or resumed task goes on."""
    return next((n for n in range(first, last + 1) if not recorded(run, plan, n).exists()), None)


def register_range(run: Any, plan: Plan, first: int, last: int, sender: Sender, log: Log) -> dict[str, int]:
    """Register batches ``first..last`` that have no outcomes yet, in order; return the range's totals.

    Each batch's outcomes are written beside its manifest as soon as it is answered, and every blocked or
    failed item is logged with its reason.
    """
    check_range(plan, first, last, run)
    totals: Counter[str] = Counter()
    began, items, kept = time.monotonic(), 0, []
    for number in range(first, last + 1):
        batch = plan.batches[number - 1]
        path = recorded(run, plan, number)
        done = read_outcomes(path)
        if done is not None:
            totals.update(count_outcomes(done.values()))
            kept.append(number)
            continue
        outcomes = sender(SendContext(run, plan, number))
        counted = record(path, outcomes, log)
        totals.update(counted)
        items += batch.items
        elapsed = time.monotonic() - began
        log.info(
            "Batch %d (%d of %d here): %s; %.1f items/s",
            number,
            number - first + 1,
            last - first + 1,
            {kind: count for kind, count in counted.items() if count},
            items / elapsed if elapsed else 0.0,
        )
    if kept:
        log.info("%d batches already had their outcomes and were not sent again: %s", len(kept), kept[:20])
    result = outcome_totals(totals)
    table = "\n".join(f"  {kind:<12}{count:>10,}" for kind, count in result.items())
    log.info("Batches %d-%d:\n%s", first, last, table)
    return result


def record(path: Any, outcomes: list[Outcome], log: Log) -> dict[str, int]:
    """Write a batch's outcomes to ``path``, log every problem; return the counts."""
    write_outcomes(path, outcomes)
    for outcome in outcomes:
        if outcome.outcome.value in ("blocked", "failed"):
            log.warning("%s %s: %s", outcome.outcome.value, outcome.item, outcome.reason)
    return count_outcomes(outcomes)
