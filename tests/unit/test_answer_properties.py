"""Any answer a platform can send becomes one outcome per item sent: properties over arbitrary JSON and shapes.

The parsers are pure, so hypothesis throws every JSON value at them (and near-valid answers with one field
of the wrong shape, which is what a platform's bug or a proxy's error page looks like) and checks the promise:
no exception, exactly one outcome per item in the order sent, each one JSON-serialisable with a one-line reason.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tenacity import RetryCallState

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.outcomes import Outcome, OutcomeKind
from airflow_ingest.core.plan import make_plan, path_opener, read_batch_index
from airflow_ingest.hooks.retries import RetryPolicy, Transient, parse_retry_after
from airflow_ingest.platforms.darwin.answers import darwin_outcomes
from airflow_ingest.platforms.encord.answers import JobResult, encord_outcomes, job_result_from
from airflow_ingest.platforms.encord.documents import EncordManifests
from airflow_ingest.platforms.encord.target import EncordTarget
from airflow_ingest.platforms.redbrick.answers import (
    VerdictKind,
    created,
    in_plan_order,
    planned_tasks,
    sort_out,
    validation_verdict,
)
from airflow_ingest.platforms.redbrick.hook import graphql_messages

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def assert_one_per_item(outcomes: list[Outcome], items: list[str]) -> None:
    assert [o.item for o in outcomes] == items
    for outcome in outcomes:
        assert isinstance(outcome.outcome, OutcomeKind) and isinstance(outcome.reason, str)
        assert "\n" not in outcome.reason and len(outcome.reason) <= 2000
        json.dumps(outcome.to_json())


# --- V7 Darwin ----------------------------------------------------------------------------------------------

NAMES = ["a.png", "b.png", "c.png"]
PAYLOAD = {"items": [{"path": "/x", "name": n} for n in NAMES], "dataset_slug": "d", "storage_slug": "s"}
SENT = [f"/x/{n}" for n in NAMES]

entry_fields = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(NAMES) | json_values,
        "path": st.sampled_from(["/x", "/y", "/x/"]) | json_values,
        "slots": json_values
        | st.lists(st.fixed_dictionaries({}, optional={"reason": st.sampled_from(["ALREADY_EXISTS"]) | json_values})),
        "id": json_values,
    },
)
entries = st.lists(entry_fields | json_values, max_size=6)
darwin_answers = json_values | st.fixed_dictionaries(
    {}, optional={"items": entries | json_values, "blocked_items": entries | json_values}
)


@FAST
@given(darwin_answers)
def test_any_v7_answer_gives_one_outcome_per_item_sent(answer: Any) -> None:
    assert_one_per_item(darwin_outcomes(PAYLOAD, answer), SENT)


@pytest.mark.parametrize(
    "answer",
    [
        {"items": [], "blocked_items": [{"name": "a.png", "path": "/x", "slots": "ALREADY_EXISTS"}]},
        {"items": [], "blocked_items": [{"name": "a.png", "path": "/x", "slots": {"reason": "X"}}]},
        {"items": ["a.png", "b.png"], "blocked_items": None},
        {"items": [{"name": "a.png", "path": "/x"}], "blocked_items": [["oops"]]},
        [],
        "<html>502 Bad Gateway</html>",
    ],
)
def test_the_shapes_that_used_to_crash_a_v7_run_end_as_outcomes(answer: Any) -> None:
    outcomes = darwin_outcomes(PAYLOAD, answer)
    assert_one_per_item(outcomes, SENT)
    unmentioned = [o for o in outcomes if o.outcome is OutcomeKind.FAILED]
    assert all(o.retryable and "answer: " in o.reason for o in unmentioned)


def test_a_v7_slot_reason_that_is_not_text_is_quoted_not_lost() -> None:
    answer = {"blocked_items": [{"name": "a.png", "path": "/x", "slots": [{"reason": {"code": 7}}]}]}
    first = darwin_outcomes(PAYLOAD, answer)[0]
    assert first.outcome is OutcomeKind.BLOCKED and first.reason == '{"code": 7}'


# --- RedBrick AI --------------------------------------------------------------------------------------------

TASK_NAMES = ["a/1.png", "b/2.png", "c/3.png", "d/4.png"]
PLANNED = planned_tasks([{"name": n, "items": [f"s3://b/{n}"]} for n in TASK_NAMES])
ITEMS = [t.item for t in PLANNED]

validation_answers = json_values | st.fixed_dictionaries(
    {},
    optional={
        "isValid": st.booleans() | json_values,
        "error": json_values,
        "converted": json_values
        | st.lists(
            st.fixed_dictionaries(
                {"name": st.sampled_from(TASK_NAMES) | json_values},
                optional={
                    "items": st.just(["s3://b/x.png"]) | json_values,
                    "seriesInfo": json_values,
                    "centerline": json_values,
                },
            )
        ).map(lambda points: json.dumps(points) if len(points) % 2 else points),
    },
)


@FAST
@given(st.lists(validation_answers, min_size=1, max_size=12), json_values)
def test_any_redbrick_validation_and_creation_answer_gives_one_outcome_per_task(
    answers: list[Any], creation: Any
) -> None:
    calls = iter(answers * 20)

    def validate(group: Any) -> Any:
        return validation_verdict(next(calls))

    checked = sort_out(PLANNED, validate, budget=8)
    made = [created(task.item, creation) for task, _ in checked.ready]
    settled = [o.item for o in [*checked.settled, *made]]
    assert sorted(settled) == sorted(ITEMS)  # each task settled exactly once
    assert_one_per_item(in_plan_order(PLANNED, [*checked.settled, *made]), ITEMS)


@FAST
@given(json_values)
def test_any_redbrick_answer_is_a_verdict_and_any_graphql_errors_one_line(answer: Any) -> None:
    verdict = validation_verdict(answer)
    assert verdict.kind in VerdictKind and "\n" not in verdict.error
    if verdict.kind is VerdictKind.FAILED:
        assert verdict.retryable
    message = graphql_messages(answer)
    assert message and "\n" not in message and len(message) <= 1000


def test_converted_tasks_of_shapes_createdatapoint_cannot_take_are_failed_not_sent() -> None:
    (task,) = PLANNED[:1]
    for point in ({"name": task.name, "items": ["u"], "seriesInfo": "x"}, {"name": task.name, "items": [1]}):
        checked = sort_out(
            [task], lambda group, p=point: validation_verdict({"isValid": True, "converted": [p]}), budget=2
        )
        assert checked.ready == [] and [o.outcome for o in checked.settled] == [OutcomeKind.FAILED]


# --- Encord ---------------------------------------------------------------------------------------------------

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)
FOLDER = "11111111-2222-4333-8444-555555555555"
KEYS = ["a/1.png", "a/2.png", "b/clip.mp4"]


@pytest.fixture(scope="module")
def encord_batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], dict[str, Any], Any]:
    tmp = tmp_path_factory.mktemp("encord-plan")
    target = EncordTarget.model_validate({"region": "eu-west-2"})
    objects = [StoredObject(f"s3://bkt/{k}", "bkt", k, 10, f"etag-{k}", NOW) for k in KEYS]
    plan = make_plan(objects, EncordManifests(target), Limits(max_entries=100), path_opener(Path(tmp)))
    spec = json.loads((Path(tmp) / plan.batches[0].path).read_text())
    return read_batch_index(Path(tmp), plan.batches[0]), spec, target.linker


def namespace(value: Any) -> Any:
    """JSON turned into what the SDK hands over: objects with attributes, where the JSON has objects."""
    if isinstance(value, dict):
        return SimpleNamespace(**{str(k): namespace(v) for k, v in value.items() if str(k).isidentifier()})
    if isinstance(value, list):
        return [namespace(v) for v in value]
    return value


unit = st.fixed_dictionaries(
    {},
    optional={
        "object_urls": st.lists(st.sampled_from([f"s3://bkt/{k}" for k in KEYS])) | json_values,
        "error": json_values,
    },
)
states = st.fixed_dictionaries(
    {"status": st.sampled_from(["PENDING", "DONE", "ERROR", "CANCELLED"]) | json_values},
    optional={
        "items_with_names": st.lists(st.fixed_dictionaries({}, optional={"name": st.sampled_from(KEYS) | json_values}))
        | json_values,
        "data_hashes_with_titles": st.lists(st.fixed_dictionaries({"title": st.sampled_from(KEYS) | json_values}))
        | json_values,
        "unit_errors": st.lists(unit) | json_values,
        "data_unit_errors": st.lists(unit) | json_values,
        "errors": json_values,
        "units_done_count": json_values,
        "units_error_count": json_values,
    },
)


@FAST
@given(states, st.booleans(), st.booleans())
def test_any_encord_job_state_becomes_a_result_or_a_refusal_and_then_one_outcome_per_item(
    encord_batch: tuple[list[dict[str, Any]], dict[str, Any], Any], state: dict[str, Any], folder: bool, skip: bool
) -> None:
    index, spec, linker = encord_batch
    try:
        result = job_result_from(namespace(state), folder=folder)
    except ValueError as error:
        assert "known status" in str(error) and state["status"] not in ("PENDING", "DONE", "ERROR", "CANCELLED")
        return
    assert isinstance(result, JobResult)
    outcomes = encord_outcomes(result, index, {**spec, "skip_duplicate_urls": skip}, linker)
    assert_one_per_item(outcomes, [str(line["item"]) for line in index])


def test_an_encord_state_with_urls_as_one_string_still_blames_that_url() -> None:
    state = namespace({"status": "DONE", "unit_errors": [{"object_urls": "s3://bkt/a/1.png", "error": "bad"}]})
    result = job_result_from(state, folder=True)
    assert result.unit_errors[0].object_urls == ("s3://bkt/a/1.png",) and result.unit_errors[0].error == "bad"


# --- Retry-After and the retry loop ---------------------------------------------------------------------------


@FAST
@given(
    st.text(max_size=40)
    | st.sampled_from(["٣", "²", "\uff11\uff12", "-0000", "1e400", "nan", "Wed, 21 Oct 2015 07:28:00 -0000"])
)
def test_any_retry_after_header_is_seconds_or_no_hint(value: str) -> None:
    seconds = parse_retry_after(value)
    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)


@FAST
@given(json_values | st.floats() | st.text(max_size=10))
def test_the_retry_wait_never_fails_whatever_hint_a_server_or_sdk_gave(hint: Any) -> None:
    policy = RetryPolicy(max_attempts=3, wait_initial=0.1, wait_max=5.0)
    state = RetryCallState(None, None, (), {})
    state.set_exception((Transient, Transient("x", retry_after=hint), None))
    assert 0 <= policy.wait(state) <= 5.0


def test_non_ascii_digits_and_zone_less_dates_are_handled() -> None:
    assert parse_retry_after("٣") is None and parse_retry_after("²") is None
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 -0000") == 0.0  # in the past: no wait
