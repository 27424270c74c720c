"""RedBrick answers -> one outcome per planned item: validation narrowing, conversion, creation, duplicates."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.outcomes import Outcome, OutcomeKind
from airflow_ingest.platforms.redbrick.answers import (
    NO_TASK_ID,
    PlannedTask,
    Verdict,
    VerdictKind,
    colliding_names,
    converted_points,
    created,
    creation_refused,
    in_plan_order,
    one_line,
    planned_tasks,
    sort_out,
    validation_verdict,
)


def tasks(*names: str) -> list[dict[str, Any]]:
    return [{"name": n, "series": [{"items": f"{n}.png"}]} for n in names]


def converted_of(group: Sequence[PlannedTask]) -> str:
    return json.dumps([{"name": t.name, "items": [f"{t.name}.png"]} for t in group])


class Validator:
    """RedBrick's all-or-nothing validation over a set of bad names, counting its calls."""

    def __init__(self, bad: set[str]) -> None:
        self.bad = bad
        self.calls: list[list[str]] = []

    def __call__(self, group: Sequence[PlannedTask]) -> Verdict:
        self.calls.append([t.name for t in group])
        wrong = [t.name for t in group if t.name in self.bad]
        if wrong:
            return validation_verdict({"isValid": False, "error": f"bad path in {wrong[0]}\nDocs: ..."})
        return validation_verdict({"isValid": True, "converted": converted_of(group)})


def test_planned_tasks_pair_by_position_with_the_plans_ids_and_check_names() -> None:
    planned = planned_tasks(tasks("a/x", "b"), ["/a/x", "/b"])
    assert [(p.item, p.name) for p in planned] == [("/a/x", "a/x"), ("/b", "b")]
    assert [p.item for p in planned_tasks(tasks("a/x"))] == ["/a/x"]  # the leading-slash rule
    with pytest.raises(ConfigError, match=r"item_ids=.*named 'b'"):
        planned_tasks(tasks("a/x", "b"), ["/a/x", "/c"])
    with pytest.raises(ConfigError, match="1 ids for 2 tasks"):
        planned_tasks(tasks("a/x", "b"), ["/a/x"])


def test_two_items_with_one_task_name_block_the_second_instead_of_passing_for_a_duplicate() -> None:
    planned = planned_tasks(tasks("a/x.png", "a/x.png"), ["/a/x.png", "//a/x.png"])
    keep, blocked = colliding_names(planned)
    assert [k.item for k in keep] == ["/a/x.png"]
    assert blocked == [Outcome("//a/x.png", OutcomeKind.BLOCKED, blocked[0].reason)]
    assert "'/a/x.png'" in blocked[0].reason


@pytest.mark.parametrize(
    ("answer", "kind", "retryable"),
    [
        (None, VerdictKind.FAILED, True),
        ({}, VerdictKind.FAILED, True),  # the SDK's `{}`: no verdict, never a silent drop
        ({"isValid": False, "error": None}, VerdictKind.INVALID, False),
        ({"isValid": True, "converted": "not json"}, VerdictKind.FAILED, True),
        ({"isValid": True, "converted": '{"name": "x"}'}, VerdictKind.FAILED, True),
        ({"isValid": True, "converted": None}, VerdictKind.VALID, False),
    ],
)
def test_validation_verdicts(answer: dict[str, Any] | None, kind: VerdictKind, retryable: bool) -> None:
    verdict = validation_verdict(answer)
    assert (verdict.kind, verdict.retryable) == (kind, retryable)
    assert verdict.kind is VerdictKind.VALID or verdict.error


def test_a_valid_batch_takes_one_call_per_chunk_of_ten_and_every_task_gets_its_converted_point() -> None:
    planned = planned_tasks(tasks(*[f"t{i}" for i in range(50)]))
    validate = Validator(set())
    result = sort_out(planned, validate, budget=100)
    assert result.calls == 5 and result.settled == [] and [len(c) for c in validate.calls] == [10] * 5
    assert [(t.item, p["items"]) for t, p in result.ready] == [(f"/t{i}", [f"t{i}.png"]) for i in range(50)]


@pytest.mark.parametrize("bad", [{"t0"}, {"t49"}, {"t7", "t8"}, {"t3", "t20", "t41"}])
def test_an_invalid_batch_is_narrowed_to_its_bad_tasks_and_the_good_ones_go_through(bad: set[str]) -> None:
    planned = planned_tasks(tasks(*[f"t{i}" for i in range(50)]))
    validate = Validator(bad)
    result = sort_out(planned, validate, budget=100)
    assert {t.name for t, _ in result.ready} == {f"t{i}" for i in range(50)} - bad
    assert {o.item for o in result.settled} == {f"/{b}" for b in bad}
    for outcome in result.settled:
        assert outcome.outcome is OutcomeKind.BLOCKED and outcome.reason == f"bad path in {outcome.item[1:]} Docs: ..."
    assert result.calls == len(validate.calls) <= 5 + 2 * len(bad) * 4  # ~2k log2(10) per chunk: not one by one


def test_every_task_bad_stays_within_twice_the_batch_size() -> None:
    names = [f"t{i}" for i in range(50)]
    validate = Validator(set(names))
    result = sort_out(planned_tasks(tasks(*names)), validate, budget=100)
    assert result.calls == 5 * 19 and len(result.settled) == 50  # 2 * 10 - 1 calls per chunk of 10
    assert all(o.outcome is OutcomeKind.BLOCKED for o in result.settled)


def test_a_small_budget_leaves_unsplit_groups_failed_and_retryable_never_lost() -> None:
    names = [f"t{i}" for i in range(50)]
    validate = Validator({"t10"})
    result = sort_out(planned_tasks(tasks(*names)), validate, budget=3)
    assert result.calls <= 3
    outcomes = in_plan_order(
        planned_tasks(tasks(*names)),
        [*result.settled, *(Outcome(t.item, OutcomeKind.REGISTERED) for t, _ in result.ready)],
    )
    assert len(outcomes) == 50
    failed = [o for o in outcomes if o.outcome is OutcomeKind.FAILED]
    assert "/t10" in {o.item for o in failed} and all(o.retryable for o in failed)
    assert {o.reason.split(":")[0] for o in failed} == {
        "not validated within 3 validation calls",  # the chunks after the budget
        next(o.reason for o in failed if o.item == "/t10").split(":")[0],  # t10's chunk, not narrowed down
    } and "not narrowed down" in next(o.reason for o in failed if o.item == "/t10")
    assert {o.outcome for o in outcomes} == {OutcomeKind.REGISTERED, OutcomeKind.FAILED}
    with pytest.raises(ConfigError, match="validation_budget=0"):
        sort_out(planned_tasks(tasks("a")), validate, budget=0)


def test_a_refused_or_failed_validation_settles_the_whole_group_without_splitting() -> None:
    planned = planned_tasks(tasks("a", "b", "c"))
    calls: list[int] = []

    def refuse(group: Sequence[PlannedTask]) -> Verdict:
        calls.append(len(group))
        return Verdict(VerdictKind.REFUSED, "Storage method 123 not found")

    result = sort_out(planned, refuse, budget=100)
    assert calls == [3] and {o.outcome for o in result.settled} == {OutcomeKind.BLOCKED}
    assert {o.reason for o in result.settled} == {"Storage method 123 not found"}

    result = sort_out(planned, lambda g: Verdict(VerdictKind.FAILED, "HTTP 503", retryable=True), budget=100)
    assert [(o.outcome, o.retryable) for o in result.settled] == [(OutcomeKind.FAILED, True)] * 3


def test_converted_points_match_by_name_and_a_missing_one_is_a_retryable_failure() -> None:
    planned = planned_tasks(tasks("a", "b"))
    ready, missing = converted_points(
        planned, [{"name": "a", "items": ["a.png"], "seriesInfo": [{"itemsIndices": [0]}]}]
    )
    assert [(t.name, p["items"]) for t, p in ready] == [("a", ["a.png"])]
    assert [(o.item, o.outcome, o.retryable) for o in missing] == [("/b", OutcomeKind.FAILED, True)]
    flat = planned_tasks([{"name": "f", "items": ["f/1.png", "f/2.png"]}])
    assert converted_points(flat, [])[0][0][1]["items"] == ["f/1.png", "f/2.png"]  # valid, unconverted flat task
    series_without_conversion = converted_points(planned, [])
    assert series_without_conversion[0] == [] and len(series_without_conversion[1]) == 2
    ready, missing = converted_points(planned_tasks(tasks("a")), [{"name": "a", "items": []}])
    assert ready == [] and missing[0].outcome is OutcomeKind.FAILED


def test_creation_answers() -> None:
    assert created("/a", {"dpId": "d", "taskId": "t", "taskIds": ["t"]}) == Outcome("/a", OutcomeKind.REGISTERED)
    assert created("/a", {}) == Outcome("/a", OutcomeKind.FAILED, NO_TASK_ID, retryable=True)
    assert created("/a", None).outcome is OutcomeKind.FAILED
    duplicate = creation_refused("/a", "Task with name 'a' already exists in this project")
    assert duplicate.outcome is OutcomeKind.DUPLICATE and "already exists" in duplicate.reason
    blocked = creation_refused("/a", "Invalid item:\n'x' is a URL")
    assert blocked == Outcome("/a", OutcomeKind.BLOCKED, "Invalid item: 'x' is a URL")
    custom = creation_refused("/a", "E_NAME_TAKEN", duplicate_pattern=re.escape("E_NAME_TAKEN"))
    assert custom.outcome is OutcomeKind.DUPLICATE


def test_in_plan_order_gives_exactly_one_outcome_per_planned_task() -> None:
    planned = planned_tasks(tasks("a", "b", "c"))
    outcomes = in_plan_order(planned, [Outcome("/c", OutcomeKind.DUPLICATE), Outcome("/a", OutcomeKind.REGISTERED)])
    assert [(o.item, o.outcome) for o in outcomes] == [
        ("/a", OutcomeKind.REGISTERED),
        ("/b", OutcomeKind.FAILED),
        ("/c", OutcomeKind.DUPLICATE),
    ]
    assert outcomes[1].retryable


def test_one_line() -> None:
    assert one_line("a\n  b\tc") == "a b c"
    assert len(one_line("x" * 900)) == 500


def test_redbrick_retry_keeps_only_the_retryable_tasks() -> None:
    from airflow_ingest.platforms.redbrick.answers import redbrick_retry

    body = json.dumps(tasks("a", "b/c", "d"))
    assert json.loads(redbrick_retry(body, {"/b/c", "/d"}) or "") == tasks("b/c", "d")
    assert redbrick_retry(body, {"/zzz"}) is None


@settings(max_examples=80, deadline=None)
@given(
    size=st.integers(0, 60),
    chunk=st.integers(1, 12),
    bad=st.sets(st.integers(0, 59), max_size=6),
    lost=st.sets(st.integers(0, 59), max_size=2),
)
def test_chunks_never_exceed_their_size_and_one_failing_chunk_settles_only_its_own_tasks(
    size: int, chunk: int, bad: set[int], lost: set[int]
) -> None:
    """Bad tasks are blocked, tasks whose chunk fails in transit are failed and retryable, the rest go through."""
    names = [f"t{i}" for i in range(size)]
    planned = planned_tasks(tasks(*names))
    sizes: list[int] = []
    bad_names, lost_names = {f"t{i}" for i in bad}, {f"t{i}" for i in lost}
    inner = Validator(bad_names)

    def validate(group: Sequence[PlannedTask]) -> Verdict:
        sizes.append(len(group))
        if {t.name for t in group} & lost_names:
            return Verdict(VerdictKind.FAILED, "HTTP 503", retryable=True)
        return inner(group)

    result = sort_out(planned, validate, budget=2 * max(size, 1), chunk=chunk)
    assert all(n <= chunk for n in sizes)
    chunk_of = {name: position // chunk for position, name in enumerate(names)}
    failed_chunks = {chunk_of[n] for n in lost_names if n in chunk_of}
    outcomes = {o.item: o for o in result.settled}
    ready = {t.name for t, _ in result.ready}
    assert len(outcomes) + len(ready) == size and not ready & {o[1:] for o in outcomes}
    for name in names:
        if chunk_of[name] in failed_chunks:
            assert outcomes["/" + name].outcome is OutcomeKind.FAILED and outcomes["/" + name].retryable
        elif name in bad_names:
            assert outcomes["/" + name].outcome is OutcomeKind.BLOCKED
        else:
            assert name in ready
