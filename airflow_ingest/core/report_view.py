"""What the Ingest view shows of one run report: counts, a chart over the batches, the problems, a page of them.

``report.csv`` is read once, streamed, into a :class:`ReportIndex` that holds the counts, one row of counts
per batch, and only the failed and blocked items (with a lower-cased text to search), so a page of problems
is a slice of a list and a search one scan of short strings; the browser receives a page, never the report.
Pure Python over any text stream: the plugin opens the file (local or object storage) and caches the index.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from airflow_ingest.core.outcomes import SUCCESSFUL, OutcomeKind, outcome_totals

PROBLEMS = tuple(kind.value for kind in OutcomeKind if kind not in SUCCESSFUL)
"""The outcomes the view lists item by item: ``blocked`` and ``failed``."""

MAX_PAGE_SIZE = 500
MAX_BARS = 120
"""The chart merges neighbouring batches into at most this many bars, so 10,000 batches still draw at once."""


@dataclass(frozen=True, slots=True)
class Problem:
    """A failed or blocked item, as the report has it."""

    item: str
    outcome: str
    reason: str
    retryable: bool
    batch: int
    objects: str

    def to_json(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "outcome": self.outcome,
            "reason": self.reason,
            "retryable": self.retryable,
            "batch": self.batch,
            "objects": self.objects,
        }


@dataclass
class ReportIndex:
    """One report, summarised: totals, counts per batch, and its problems in report order."""

    totals: dict[str, int]
    batches: dict[int, Counter[str]]
    problems: list[Problem] = field(default_factory=list)
    haystacks: list[str] = field(default_factory=list)

    def chart(self, max_bars: int = MAX_BARS) -> list[dict[str, Any]]:
        """Outcome counts per bar, in batch order; one bar per batch, or per range of batches when there are many."""
        numbers = sorted(self.batches)
        if not numbers:
            return []
        count = min(max_bars, len(numbers))  # batches shared evenly: bar sizes differ by one at most
        bars = []
        for bar in range(count):
            group = numbers[bar * len(numbers) // count : (bar + 1) * len(numbers) // count]
            counts: Counter[str] = Counter()
            for number in group:
                counts.update(self.batches[number])
            label = str(group[0]) if len(group) == 1 else f"{group[0]}-{group[-1]}"
            bars.append({"batches": label, **outcome_totals(counts)})
        return bars

    def page(self, *, query: str = "", outcome: str = "", page: int = 1, size: int = 50) -> dict[str, Any]:
        """Page ``page`` (from 1) of the problems matching ``query`` (any part of item, reason or object urls)."""
        if outcome and outcome not in PROBLEMS:
            raise ValueError(f"outcome={outcome!r} is invalid: use one of {', '.join(PROBLEMS)} or leave it empty")
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ValueError(f"size={size} is invalid: give 1 to {MAX_PAGE_SIZE} rows per page")
        if page < 1:
            raise ValueError(f"page={page} is invalid: pages count from 1")
        needle = query.strip().lower()
        if not needle and not outcome:
            matched: list[Problem] | list[int] = self.problems
            total = len(self.problems)
            rows = self.problems[(page - 1) * size : page * size]
        else:
            matched = [
                n
                for n, text in enumerate(self.haystacks)
                if (not needle or needle in text) and (not outcome or self.problems[n].outcome == outcome)
            ]
            total = len(matched)
            rows = [self.problems[n] for n in matched[(page - 1) * size : page * size]]
        return {
            "total": total,
            "page": page,
            "size": size,
            "pages": max(1, -(-total // size)),
            "rows": [row.to_json() for row in rows],
        }


def index_report(stream: IO[str] | Iterable[str]) -> ReportIndex:
    """Read ``report.csv`` (the columns :class:`~airflow_ingest.core.outcomes.ReportRow` writes) once."""
    counts: Counter[str] = Counter()
    batches: dict[int, Counter[str]] = {}
    retryable = 0
    problems: list[Problem] = []
    haystacks: list[str] = []
    for row in csv.DictReader(stream):
        outcome, batch = row["outcome"], int(row["batch"] or 0)
        counts[outcome] += 1
        batches.setdefault(batch, Counter())[outcome] += 1
        if outcome in PROBLEMS:
            is_retryable = row["retryable"] == "True"
            retryable += outcome == OutcomeKind.FAILED.value and is_retryable
            problem = Problem(row["item"], outcome, row["reason"], is_retryable, batch, row["objects"])
            problems.append(problem)
            haystacks.append(f"{problem.item}\n{problem.reason}\n{problem.objects}".lower())
    totals = {**outcome_totals(counts), "items": sum(counts.values()), "retryable": retryable}
    return ReportIndex(totals=totals, batches=batches, problems=problems, haystacks=haystacks)
