"""Register tasks map over ranges of batches: the split, and a range that resumes where it stopped."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException
from hypothesis import given
from hypothesis import strategies as st

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.outcomes import Outcome, OutcomeKind
from airflow_ingest.core.plan import BatchInfo, batch_ranges, make_plan, path_opener, read_batch_index
from airflow_ingest.core.report import outcome_path
from airflow_ingest.operators.batches import BatchRegisterOperator, parse_range
from airflow_ingest.platforms.darwin.documents import DarwinManifests
from airflow_ingest.platforms.darwin.target import DarwinTarget


@given(st.integers(min_value=0, max_value=5000), st.integers(min_value=1, max_value=64))
def test_ranges_cover_every_batch_once_in_order_and_evenly(batches: int, tasks: int) -> None:
    ranges = batch_ranges(batches, tasks)
    assert len(ranges) == min(batches, tasks)
    covered = [n for first, last in ranges for n in range(first, last + 1)]
    assert covered == list(range(1, batches + 1))
    sizes = [last - first + 1 for first, last in ranges]
    assert not sizes or max(sizes) - min(sizes) <= 1


def test_ranges_of_a_million_object_plan_stay_small() -> None:
    ranges = batch_ranges(10_000, 16)
    assert ranges[0] == [1, 625] and ranges[-1] == [9376, 10000]
    assert len(str(ranges)) < 400  # the plan task's whole XCom


def test_zero_register_tasks_is_refused() -> None:
    with pytest.raises(ValueError, match="register_tasks=0"):
        batch_ranges(5, 0)


@pytest.mark.parametrize(("value", "expected"), [([2, 5], (2, 5)), ("3", (3, 3)), ("2-4", (2, 4)), ((1, 1), (1, 1))])
def test_a_range_reads_from_the_plan_or_by_hand(value: Any, expected: tuple[int, int]) -> None:
    assert parse_range(value) == expected


@pytest.mark.parametrize("value", ["a-b", [1], None, "1-2-3"])
def test_a_bad_range_names_the_parameter(value: Any) -> None:
    with pytest.raises(AirflowFailException, match="batches="):
        parse_range(value)


class Recorder(BatchRegisterOperator):
    """Registers every item of a batch as ``registered`` and remembers which batches it was asked to send."""

    sent: list[int]

    def register_batch(self, number: int, manifest: Any, batch: BatchInfo) -> list[Outcome]:
        self.sent.append(number)
        return [Outcome(str(line["item"]), OutcomeKind.REGISTERED) for line in read_batch_index(self.run, batch)]


def planned_run(run: Path, objects: int, per_batch: int) -> None:
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    listed = [StoredObject(f"s3://b/k{n:04d}.png", "b", f"k{n:04d}.png", 10, "e", now) for n in range(objects)]
    builder = DarwinManifests(DarwinTarget(dataset_slug="d", storage_slug="s"))
    make_plan(listed, builder, Limits(max_entries=per_batch), path_opener(run))


def test_a_range_sends_only_batches_without_outcomes_and_counts_them_all(tmp_path: Path) -> None:
    planned_run(tmp_path, objects=50, per_batch=10)  # 5 batches
    first = Recorder(task_id="first", run_dir=str(tmp_path), batches=[2, 4])
    first.sent = []
    assert first.pending() == 2
    # a task killed after batch 2: its outcomes are on disk, batches 3 and 4 are not
    first.record(
        tmp_path / "manifests/batch-00002.json",
        [Outcome(f"/k{n:04d}.png", OutcomeKind.DUPLICATE) for n in range(10, 20)],
    )
    assert first.pending() == 3
    retried = Recorder(task_id="first", run_dir=str(tmp_path), batches=[2, 4])
    retried.sent = []
    counts = retried.register_range()
    assert retried.sent == [3, 4]
    assert counts == {"registered": 20, "duplicate": 10, "blocked": 0, "failed": 0}
    assert retried.pending() is None
    assert not outcome_path(tmp_path / "manifests/batch-00001.json").exists()  # outside the range: untouched
    again = Recorder(task_id="again", run_dir=str(tmp_path), batches=[2, 4])
    again.sent = []
    assert again.register_range() == counts and again.sent == []  # a finished range is never sent twice


def test_a_range_outside_the_plan_fails_with_the_plans_bounds(tmp_path: Path) -> None:
    planned_run(tmp_path, objects=20, per_batch=10)
    with pytest.raises(AirflowFailException, match=r"outside the plan's batches 1-2"):
        Recorder(task_id="t", run_dir=str(tmp_path), batches=[2, 3]).register_range()
    with pytest.raises(AirflowFailException, match=r"holds no plan\.json"):
        Recorder(task_id="t", run_dir=str(tmp_path / "nowhere"), batches=[1, 1]).register_range()
