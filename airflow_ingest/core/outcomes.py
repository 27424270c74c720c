"""Outcomes: one per item, whatever happened, and the per-run report built from them.

Four kinds cover every platform answer: ``registered``; ``duplicate`` (the platform already had it, which
is success for an idempotent sync); ``blocked`` (the platform refused it, with its reason kept verbatim);
``failed`` (no answer we can trust, with ``retryable`` saying whether sending it again may help).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from enum import Enum
from typing import IO, Any


class OutcomeKind(str, Enum):
    REGISTERED = "registered"
    DUPLICATE = "duplicate"
    BLOCKED = "blocked"
    FAILED = "failed"


SUCCESSFUL = frozenset({OutcomeKind.REGISTERED, OutcomeKind.DUPLICATE})

RAW_LIMIT = 300
"""How much of a platform's raw answer a reason quotes: enough to recognise it, short enough for a report."""


def cut_short(text: str, limit: int = RAW_LIMIT) -> str:
    """``text`` on one line and at most ``limit`` characters, for quoting a platform's raw answer in a reason."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def raw_text(value: Any, limit: int = RAW_LIMIT) -> str:
    """Any answer (parsed JSON, bytes, text) as a short line; never raises, whatever its shape or depth."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        try:
            value = json.dumps(value, ensure_ascii=False, default=repr)
        except (ValueError, TypeError, RecursionError):
            value = f"<{type(value).__name__} that cannot be shown>"
    return cut_short(value, limit)


@dataclass(frozen=True, slots=True)
class Outcome:
    item: str
    outcome: OutcomeKind
    reason: str = ""
    retryable: bool = False

    def to_json(self) -> dict[str, object]:
        return {"item": self.item, "outcome": self.outcome.value, "reason": self.reason, "retryable": self.retryable}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Outcome:
        return cls(
            item=str(data["item"]),
            outcome=OutcomeKind(data["outcome"]),
            reason=str(data.get("reason", "")),
            retryable=bool(data.get("retryable", False)),
        )


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One line of the run report: an item, the objects it holds, and what became of it."""

    item: str
    objects: str
    platform: str
    outcome: str
    reason: str
    retryable: bool
    batch: int


REPORT_COLUMNS = [f for f in ReportRow.__dataclass_fields__]


def outcome_totals(counted: Mapping[str, int]) -> dict[str, int]:
    """Totals for every outcome kind, zeros included, so every summary has the same keys."""
    return {kind.value: counted.get(kind.value, 0) for kind in OutcomeKind}


def count_outcomes(outcomes: Iterable[Outcome]) -> dict[str, int]:
    return outcome_totals(Counter(o.outcome.value for o in outcomes))


class ReportWriter:
    """Streams ``report.csv`` and ``report.json`` side by side, row by row; memory stays flat.

    The JSON form is ``{"rows": [...], "totals": {...}, ...run fields}`` and is finished by :meth:`close`.
    """

    def __init__(self, csv_stream: IO[str], json_stream: IO[str]) -> None:
        self._csv = csv.DictWriter(csv_stream, fieldnames=REPORT_COLUMNS)
        self._csv.writeheader()
        self._json = json_stream
        self._json.write('{"rows": [')
        self._counts: Counter[str] = Counter()
        self._retryable = 0

    def add(self, row: ReportRow) -> None:
        record = asdict(row)
        self._csv.writerow(record)
        self._json.write(("\n  " if not self._counts else ",\n  ") + json.dumps(record, ensure_ascii=False))
        self._counts[row.outcome] += 1
        self._retryable += row.outcome == OutcomeKind.FAILED.value and row.retryable

    @property
    def totals(self) -> dict[str, int]:
        counts = outcome_totals(self._counts)
        return {**counts, "items": sum(self._counts.values()), "retryable": self._retryable}

    def close(self, **fields: object) -> dict[str, int]:
        """Finish the JSON document with the totals and the run's fields; return the totals."""
        summary = self.totals
        tail = json.dumps({"totals": summary, **fields}, indent=2, ensure_ascii=False)
        self._json.write("\n],\n" + tail[1:])
        return summary
