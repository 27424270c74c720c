"""RedBrickHook and register_batch against the fake RedBrick GraphQL API over HTTP.

Retries (429 with Retry-After, 5xx, slow answers, dropped connections, malformed answers), the SDK's body
format, refusals (key, org, project, storage), validation narrowing, and idempotent creation.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
import requests

from airflow_ingest.core.errors import ConfigError, PlatformAuthError, PlatformError
from airflow_ingest.core.outcomes import Outcome, OutcomeKind
from airflow_ingest.platforms.redbrick.answers import NO_TASK_ID
from airflow_ingest.platforms.redbrick.hook import (
    ORG_QUERY,
    RedBrickHook,
    RedBrickRefusal,
    encode_body,
    graphql_endpoint,
)
from airflow_ingest.platforms.redbrick.register import register_batch
from airflow_ingest.platforms.redbrick.target import PUBLIC_STORAGE
from tests.fakes.redbrick import FakeRedBrick

STORAGE = FakeRedBrick.STORAGE_ID
PROJECT = FakeRedBrick.PROJECT_ID
VALIDATE = "validateAndConvertToImportFormatSDK"


def hook(monkeypatch: pytest.MonkeyPatch, redbrick: FakeRedBrick, **conn: Any) -> RedBrickHook:
    monkeypatch.setenv("AIRFLOW_CONN_REDBRICK_TEST", redbrick.conn(**conn))
    return RedBrickHook("redbrick_test", max_attempts=4, wait_initial=0.05, wait_max=5)


def items_list(*names: str, public: bool = False) -> str:
    def path(n: str) -> str:
        return f"https://bucket.s3.amazonaws.com/{n}" if public else n

    return json.dumps([{"name": n, "series": [{"items": path(n)}]} for n in names])


def kinds(outcomes: list[Outcome]) -> list[str]:
    return [o.outcome.value for o in outcomes]


def statuses(redbrick: FakeRedBrick, op: str = "createDatapointSDK") -> list[int]:
    return [r["status"] for r in redbrick.state()["requests"] if r["op"] == op]


def test_registers_a_batch_and_a_second_send_is_duplicate(
    monkeypatch: pytest.MonkeyPatch, redbrick: FakeRedBrick
) -> None:
    client = hook(monkeypatch, redbrick)
    study = {"name": "s1", "series": [{"items": ["s1/a/1.dcm", "s1/a/2.dcm"]}, {"items": "s1/b.nii"}]}
    body = json.dumps([study, *json.loads(items_list("x/1.png", "x/2.png"))])
    first = register_batch(client, body, PROJECT, STORAGE)
    assert [(o.item, o.outcome.value) for o in first] == [
        ("/s1", "registered"), ("/x/1.png", "registered"), ("/x/2.png", "registered")]  # fmt: skip
    tasks = {t["name"]: t for t in redbrick.tasks()}
    assert tasks["s1"]["items"] == ["s1/a/1.dcm", "s1/a/2.dcm", "s1/b.nii"]
    assert [s["itemsIndices"] for s in tasks["s1"]["seriesInfo"]] == [[0, 1], [2]]
    again = register_batch(client, body, PROJECT, STORAGE, item_ids=["/s1", "/x/1.png", "/x/2.png"])
    assert kinds(again) == ["duplicate"] * 3 and "already" in again[0].reason
    assert len(redbrick.tasks()) == 3


def test_public_storage_takes_urls_and_refuses_keys(monkeypatch: pytest.MonkeyPatch, redbrick: FakeRedBrick) -> None:
    client = hook(monkeypatch, redbrick)
    assert kinds(register_batch(client, items_list("p/1.png", public=True), PROJECT, PUBLIC_STORAGE)) == ["registered"]
    refused = register_batch(client, items_list("p/2.png"), PROJECT, PUBLIC_STORAGE)
    assert kinds(refused) == ["blocked"] and "public storage takes full http(s) URLs" in refused[0].reason
    keys_only = register_batch(client, items_list("p/3.png", public=True), PROJECT, STORAGE)
    assert kinds(keys_only) == ["blocked"] and "relative to the bucket" in keys_only[0].reason


def test_bad_items_in_a_good_batch_are_blocked_and_the_rest_registered(
    monkeypatch: pytest.MonkeyPatch, redbrick: FakeRedBrick
) -> None:
    redbrick.configure(bad_items={r"corrupt": "file header is not DICOM"})
    names = [f"b/{i:02d}.png" for i in range(50)]
    names[7], names[31] = "b/corrupt-7.png", "b/corrupt-31.png"
    outcomes = register_batch(hook(monkeypatch, redbrick), items_list(*names), PROJECT, STORAGE)
    blocked = {o.item: o.reason for o in outcomes if o.outcome is OutcomeKind.BLOCKED}
    assert set(blocked) == {"/b/corrupt-7.png", "/b/corrupt-31.png"}
    assert all("file header is not DICOM" in reason for reason in blocked.values())
    assert sorted(t["name"] for t in redbrick.tasks()) == sorted(set(names) - {"b/corrupt-7.png", "b/corrupt-31.png"})
    validations = len(statuses(redbrick, "validateAndConvertToImportFormatSDK"))
    assert 3 <= validations <= 25  # narrowed by halving, not 50 one-by-one calls


def test_unknown_storage_blocks_every_task_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, redbrick: FakeRedBrick
) -> None:
    other = "99999999-9999-4999-8999-999999999999"
    outcomes = register_batch(hook(monkeypatch, redbrick), items_list("a.png", "b.png"), PROJECT, other)
    assert kinds(outcomes) == ["blocked", "blocked"] and f"Storage method {other} not found" in outcomes[0].reason
    assert statuses(redbrick, "validateAndConvertToImportFormatSDK") == [200]  # one call, no pointless narrowing
    with pytest.raises(ConfigError, match="storage_id='nope'"):
        register_batch(hook(monkeypatch, redbrick), items_list("a.png"), PROJECT, "nope")


def test_retries_429_honouring_retry_after_then_500_then_a_dropped_connection(
    monkeypatch: pytest.MonkeyPatch, redbrick: FakeRedBrick
) -> None:
    redbrick.configure(faults=[{"status": 429, "retry_after": 1}, {"status": 500}, {"drop": True}])
    started = time.monotonic()
    outcomes = register_batch(hook(monkeypatch, redbrick), items_list("r.png"), PROJECT, STORAGE)
    assert time.monotonic() - started >= 1.0  # waited as long as Retry-After asked
    assert kinds(outcomes) == ["registered"] and len(redbrick.tasks()) == 1
    ops = [(r["op"], r.get("fault", {}).get("status") or ("drop" if r.get("fault", {}).get("drop") else None))
           for r in redbrick.state()["requests"]]  # fmt: skip
    assert ops[:3] == [("sdkGetProjectNameSDK", 429), ("sdkGetProjectNameSDK", 500), ("sdkGetProjectNameSDK", "drop")]


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"status": 500, "after_commit": True}, "duplicate"),
        ({"drop": True, "after_commit": True}, "duplicate"),
        ({"malformed": True, "after_commit": True}, "duplicate"),
        ({"delay": 2.0, "after_commit": True}, "duplicate"),  # committed, answer later than the 1 s timeout
        ({"delay": 2.0}, "registered"),  # the resend lands first; the late original then meets the conflict
    ],
    ids=["commit-then-500", "commit-then-drop", "commit-then-garbage", "commit-then-slow", "slow-then-commit"],
)
def test_a_lost_creation_answer_is_resent_and_the_task_exists_once(
    monkeypatch: pytest.MonkeyPatch, redbrick: FakeRedBrick, fault: dict[str, Any], expected: str
) -> None:
    redbrick.configure(faults=[{**fault, "op": "createDatapointSDK"}])
    outcomes = register_batch(hook(monkeypatch, redbrick, timeout=1), items_list("once.png"), PROJECT, STORAGE)
    assert kinds(outcomes) == [expected]
    assert expected == "registered" or "already" in outcomes[0].reason
    time.sleep(1.5 if "delay" in fault else 0)  # let a late original finish before counting
    assert [t["name"] for t in redbrick.tasks()] == ["once.png"]
    assert len(statuses(redbrick)) == 2


def test_a_null_creation_answer_is_a_retryable_failure_then_a_resend_registers(
    monkeypatch: pytest.MonkeyPatch, redbrick: FakeRedBrick
) -> None:
    redbrick.configure(faults=[{"null_answer": True, "op": "createDatapointSDK"}])
    client = hook(monkeypatch, redbrick)
    assert register_batch(client, items_list("n.png"), PROJECT, STORAGE) == [
        Outcome("/n.png", OutcomeKind.FAILED, NO_TASK_ID, retryable=True)
    ]
    assert kinds(register_batch(client, items_list("n.png"), PROJECT, STORAGE)) == ["registered"]


def test_giving_up_on_5xx_fails_every_task_retryably_and_creates_nothing(
    monkeypatch: pytest.MonkeyPatch, redbrick: FakeRedBrick
) -> None:
    redbrick.configure(faults=[{"status": 503, "op": "validateAndConvertToImportFormatSDK"}] * 4)
    outcomes = register_batch(hook(monkeypatch, redbrick), items_list("a.png", "b.png"), PROJECT, STORAGE)
    assert [(o.outcome.value, o.retryable) for o in outcomes] == [("failed", True)] * 2
    assert "gave up after 4 attempts" in outcomes[0].reason and redbrick.tasks() == []
    redbrick.configure(faults=[{"status": 500, "op": "sdkGetProjectNameSDK"}] * 4)
    outcomes = register_batch(hook(monkeypatch, redbrick), items_list("a.png"), PROJECT, STORAGE)
    assert [(o.outcome.value, o.retryable) for o in outcomes] == [("failed", True)]
    assert "sdkGetProjectNameSDK gave up" in outcomes[0].reason


def test_a_request_too_large_is_not_retried_and_says_to_lower_max_entries(
    monkeypatch: pytest.MonkeyPatch, redbrick: FakeRedBrick
) -> None:
    redbrick.configure(max_tasks=5)  # smaller than the hook's chunks of 10
    outcomes = register_batch(
        hook(monkeypatch, redbrick), items_list(*[f"{i}.png" for i in range(6)]), PROJECT, STORAGE
    )
    assert [(o.outcome.value, o.retryable) for o in outcomes] == [("failed", False)] * 6
    assert "HTTP 413" in outcomes[0].reason and "lower max_entries" in outcomes[0].reason
    assert statuses(redbrick, "validateAndConvertToImportFormatSDK") == [413] and redbrick.tasks() == []
    assert kinds(register_batch(hook(monkeypatch, redbrick), items_list("a.png"), PROJECT, STORAGE)) == ["registered"]


def validated_chunks(redbrick: FakeRedBrick) -> list[int]:
    """Tasks per validation call the fake answered (a faulted call never reached the validator)."""
    return [len(r["names"]) for r in redbrick.state()["requests"] if r["op"] == VALIDATE and "names" in r]


def test_validation_goes_in_chunks_of_ten_whatever_the_batch_size(
    monkeypatch: pytest.MonkeyPatch, redbrick: FakeRedBrick
) -> None:
    """redbrick-sdk 2.35 validates 10 tasks per call: RedBrick never sees a larger request from us either."""
    redbrick.configure(max_tasks=10)  # a larger validation would be answered 413
    outcomes = register_batch(
        hook(monkeypatch, redbrick), items_list(*[f"{i}.png" for i in range(25)]), PROJECT, STORAGE
    )
    assert kinds(outcomes) == ["registered"] * 25 and len(redbrick.tasks()) == 25
    assert validated_chunks(redbrick) == [10, 10, 5]


def test_a_chunk_that_fails_settles_only_its_own_tasks(monkeypatch: pytest.MonkeyPatch, redbrick: FakeRedBrick) -> None:
    """Chunk 2 is answered 413 (not retried), chunk 3 holds a bad task: the rest of the batch still lands."""
    redbrick.configure(faults=[{"op": VALIDATE}, {"status": 413, "op": VALIDATE}], bad_items={"broken": "unreadable"})
    names = [f"{i}.png" for i in range(30)]
    names[25] = "broken.png"
    outcomes = register_batch(hook(monkeypatch, redbrick), items_list(*names), PROJECT, STORAGE)
    by_name = {o.item[1:]: o for o in outcomes}
    assert {by_name[n].outcome.value for n in names[10:20]} == {"failed"}
    assert "HTTP 413" in by_name["10.png"].reason
    assert by_name["broken.png"].outcome.value == "blocked" and "unreadable" in by_name["broken.png"].reason
    registered = [n for n in names if by_name[n].outcome.value == "registered"]
    assert registered == names[:10] + [n for n in names[20:] if n != "broken.png"]
    assert sorted(t["name"] for t in redbrick.tasks()) == sorted(registered)
    assert max(validated_chunks(redbrick)) <= 10


def test_bad_connection_extras_are_one_line_errors(monkeypatch: pytest.MonkeyPatch, redbrick: FakeRedBrick) -> None:
    with pytest.raises(ConfigError, match=r"extra.concurrency='many' is invalid: use a whole number"):
        hook(monkeypatch, redbrick, concurrency="many").organization()
    with pytest.raises(ConfigError, match=r"extra.timeout=0 is invalid"):
        hook(monkeypatch, redbrick, timeout=0).organization()
    without_project = json.loads(redbrick.conn())
    del without_project["extra"]["project_id"]
    monkeypatch.setenv("AIRFLOW_CONN_REDBRICK_NO_PROJECT", json.dumps(without_project))
    with pytest.raises(ConfigError, match=r"project_id=None is invalid: pass the project's id"):
        register_batch(RedBrickHook("redbrick_no_project"), items_list("a.png"), None, STORAGE)


def test_refused_key_org_and_project_raise_auth_errors_and_are_never_retried(
    monkeypatch: pytest.MonkeyPatch, redbrick: FakeRedBrick
) -> None:
    wrong_key = "x" * 43
    with pytest.raises(PlatformAuthError, match=r"redbrick_test.*HTTP 401") as caught:
        register_batch(hook(monkeypatch, redbrick, api_key=wrong_key), items_list("a.png"), PROJECT, STORAGE)
    assert wrong_key not in str(caught.value)
    assert [r["status"] for r in redbrick.state()["requests"]] == [401]
    other_org = "11112222-3333-4444-8555-666677778888"
    with pytest.raises(PlatformAuthError, match="Not authorized"):
        register_batch(hook(monkeypatch, redbrick, org_id=other_org), items_list("a.png"), PROJECT, STORAGE)
    missing = "12345678-1234-4234-8234-123456789abc"
    with pytest.raises(PlatformAuthError, match=f"no project '{missing}'"):
        register_batch(hook(monkeypatch, redbrick), items_list("a.png"), missing, STORAGE)
    assert redbrick.tasks() == []


def test_a_key_of_the_wrong_length_is_refused_before_any_request(
    monkeypatch: pytest.MonkeyPatch, redbrick: FakeRedBrick
) -> None:
    with pytest.raises(PlatformAuthError, match="has 5 characters; RedBrick keys have 43") as caught:
        hook(monkeypatch, redbrick, api_key="short").organization()
    assert "short" not in str(caught.value) and redbrick.state()["requests"] == []


def test_test_connection(monkeypatch: pytest.MonkeyPatch, redbrick: FakeRedBrick) -> None:
    assert hook(monkeypatch, redbrick).test_connection() == (
        True,
        "Connected to RedBrick AI organization 'Demo Org', project 'project 1'",
    )
    ok, message = hook(monkeypatch, redbrick, api_key="y" * 43).test_connection()
    assert not ok and "HTTP 401" in message
    ok, message = hook(monkeypatch, redbrick, project_id="12345678-1234-4234-8234-123456789abc").test_connection()
    assert not ok and "no project" in message
    ok, message = hook(monkeypatch, redbrick, org_id="not-a-uuid").test_connection()
    assert not ok and "extra.org_id='not-a-uuid' is invalid" in message


def test_the_fake_answers_only_the_sdks_operations_and_its_body_format(
    monkeypatch: pytest.MonkeyPatch, redbrick: FakeRedBrick
) -> None:
    client = hook(monkeypatch, redbrick)
    with pytest.raises(RedBrickRefusal, match="Unknown operation"):
        client.execute("query { projects { name } }", {}, operation="other")
    with pytest.raises(RedBrickRefusal, match=r"Variable '\$team' is not defined"):
        client.execute(ORG_QUERY, {"orgId": FakeRedBrick.ORG_ID, "team": "x"}, operation="getOrgSDK")
    with pytest.raises(RedBrickRefusal, match="Expected type 'UUID'"):
        client.execute(ORG_QUERY, {"orgId": "nope"}, operation="getOrgSDK")
    headers = {"ApiKey": FakeRedBrick.API_KEY, "RB-SDK-Version": "2.28.7", "Content-Encoding-RB": "gzip"}
    plain = requests.post(f"{redbrick.url}/graphql/", data=b'{"query": "x"}', headers=headers, timeout=10)
    assert plain.status_code == 400  # the SDK always compresses; a plain body with that header is refused
    body = encode_body(ORG_QUERY, {"orgId": FakeRedBrick.ORG_ID})
    answer = requests.post(f"{redbrick.url}/graphql/", data=body, headers=headers, timeout=10).json()
    assert answer == {"data": {"organization": {"name": "Demo Org", "orgId": FakeRedBrick.ORG_ID}}}


def test_the_api_key_never_reaches_logs_or_errors(
    monkeypatch: pytest.MonkeyPatch,
    redbrick: FakeRedBrick,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    redbrick.configure(
        faults=[{"status": 502}, {"status": 500, "after_commit": True, "op": "createDatapointSDK"}],
        bad_items={"bad": "unreadable"},
    )
    client = hook(monkeypatch, redbrick)
    outcomes = register_batch(client, items_list("k/1.png", "k/bad.png"), PROJECT, STORAGE)
    assert kinds(outcomes) == ["duplicate", "blocked"]
    with pytest.raises(PlatformAuthError) as refused:
        hook(monkeypatch, redbrick, api_key=FakeRedBrick.API_KEY[::-1]).organization()
    captured = capfd.readouterr()
    logs = caplog.text + captured.out + captured.err
    assert "attempt 1/4 failed (HTTP 502" in logs  # the hook's own log lines were captured
    for text in (logs, json.dumps([o.to_json() for o in outcomes]), str(refused.value)):
        assert FakeRedBrick.API_KEY not in text and FakeRedBrick.API_KEY[::-1] not in text


@pytest.mark.parametrize(
    ("host", "endpoint"),
    [
        (None, "https://api.redbrickai.com/graphql/"),
        ("https://api.redbrickai.com/", "https://api.redbrickai.com/graphql/"),
        ("https://MyOrg.redbrickai.com/some/page", "https://myorg.redbrickai.com/api/graphql/"),
        ("redbrick.example.org", "https://redbrick.example.org/api/graphql/"),
        (
            "https://abc.execute-api.us-east-1.amazonaws.com/prod",
            "https://abc.execute-api.us-east-1.amazonaws.com/prod/graphql/",
        ),
        ("http://127.0.0.1:8766", "http://127.0.0.1:8766/graphql/"),
        ("http://localhost:3000", "http://localhost:3000/graphql/"),
    ],
)
def test_graphql_endpoint_follows_the_sdk(host: str | None, endpoint: str) -> None:
    assert graphql_endpoint(host) == endpoint


def test_a_platform_error_for_every_batch_of_a_dead_server(monkeypatch: pytest.MonkeyPatch) -> None:
    dead = FakeRedBrick.__new__(FakeRedBrick)
    dead.port = 9  # discard port: nothing listens
    monkeypatch.setenv("AIRFLOW_CONN_REDBRICK_DEAD", FakeRedBrick.conn(dead))
    with pytest.raises(PlatformError) as caught:
        RedBrickHook("redbrick_dead", max_attempts=2, wait_initial=0.01).organization()
    assert caught.value.retryable and "gave up after 2 attempts: connection failed" in str(caught.value)
