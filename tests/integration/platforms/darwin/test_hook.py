"""DarwinHook against the fake V7 Darwin over HTTP: retries, Retry-After, timeouts, refusals, test_connection."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from airflow_ingest.core.errors import PlatformAuthError, PlatformError
from airflow_ingest.hooks.retries import parse_retry_after
from airflow_ingest.platforms.darwin.hook import DarwinHook
from tests.harness import FakeDarwin


def payload(*names: str, dataset: str = "demo-dataset") -> dict[str, Any]:
    items = [{"path": "/x", "type": "image", "storage_key": f"x/{n}", "name": n} for n in names]
    return {"items": items, "dataset_slug": dataset, "storage_slug": "demo-storage"}


def hook(monkeypatch: pytest.MonkeyPatch, darwin: FakeDarwin, **conn: Any) -> DarwinHook:
    monkeypatch.setenv("AIRFLOW_CONN_DARWIN_TEST", darwin.conn(**conn))
    return DarwinHook("darwin_test", max_attempts=4, wait_initial=0.05, wait_max=5)


def test_registers_and_reports_duplicates(monkeypatch: pytest.MonkeyPatch, darwin: FakeDarwin) -> None:
    client = hook(monkeypatch, darwin)
    first = client.register_existing(payload("a.png", "b.png"))
    assert [i["name"] for i in first["items"]] == ["a.png", "b.png"]
    again = client.register_existing(json.dumps(payload("a.png")))
    assert again["items"] == [] and again["blocked_items"][0]["slots"][0]["reason"] == "ALREADY_EXISTS"
    assert len(darwin.state()["registered"]) == 2


def test_retries_429_honouring_retry_after_and_500(monkeypatch: pytest.MonkeyPatch, darwin: FakeDarwin) -> None:
    darwin.configure(faults=[{"status": 429, "retry_after": 1}, {"status": 500}])
    started = time.monotonic()
    answer = hook(monkeypatch, darwin).register_existing(payload("a.png"))
    assert time.monotonic() - started >= 1.0  # waited as long as Retry-After asked
    assert [i["name"] for i in answer["items"]] == ["a.png"]
    assert [r["status"] for r in darwin.state()["requests"]] == [429, 500, 200]


def test_gives_up_after_max_attempts_as_a_retryable_failure(
    monkeypatch: pytest.MonkeyPatch, darwin: FakeDarwin
) -> None:
    darwin.configure(faults=[{"status": 503}] * 4)
    with pytest.raises(PlatformError) as caught:
        hook(monkeypatch, darwin).register_existing(payload("a.png"))
    assert caught.value.retryable and caught.value.status == 503 and "after 4 attempts" in str(caught.value)
    assert darwin.state()["registered"] == []


def test_a_slow_answer_times_out_and_is_retried(monkeypatch: pytest.MonkeyPatch, darwin: FakeDarwin) -> None:
    darwin.configure(faults=[{"delay": 2.5}])
    answer = hook(monkeypatch, darwin, timeout=1).register_existing(payload("slow.png"))
    # The first request registered after its delay but its answer was lost; the retry sees ALREADY_EXISTS.
    assert answer["blocked_items"][0]["slots"][0]["reason"] == "ALREADY_EXISTS"
    assert len(darwin.state()["registered"]) == 1


def test_a_lost_answer_after_commit_never_registers_twice(monkeypatch: pytest.MonkeyPatch, darwin: FakeDarwin) -> None:
    darwin.configure(faults=[{"status": 500, "after_commit": True}])
    answer = hook(monkeypatch, darwin).register_existing(payload("a.png", "b.png"))
    assert {b["name"] for b in answer["blocked_items"]} == {"a.png", "b.png"}
    assert len(darwin.state()["registered"]) == 2


def test_the_rate_limit_answers_429_with_retry_after(monkeypatch: pytest.MonkeyPatch, darwin: FakeDarwin) -> None:
    darwin.configure(rpm=2)
    client = hook(monkeypatch, darwin)
    client.register_existing(payload("a.png"))
    client.register_existing(payload("b.png"))
    client = DarwinHook("darwin_test", max_attempts=1)
    with pytest.raises(PlatformError) as caught:
        client.register_existing(payload("c.png"))
    assert caught.value.status == 429 and caught.value.retryable


def test_a_wrong_key_is_an_auth_error_naming_the_connection(
    monkeypatch: pytest.MonkeyPatch, darwin: FakeDarwin
) -> None:
    with pytest.raises(PlatformAuthError, match=r"darwin_test.*HTTP 401"):
        hook(monkeypatch, darwin, api_key="wrong").register_existing(payload("a.png"))
    assert [r["status"] for r in darwin.state()["requests"]] == [401]  # refused keys are never retried


def test_unknown_dataset_is_an_auth_error(monkeypatch: pytest.MonkeyPatch, darwin: FakeDarwin) -> None:
    with pytest.raises(PlatformAuthError, match="HTTP 404"):
        hook(monkeypatch, darwin).register_existing(payload("a.png", dataset="nope"))


def test_a_malformed_request_is_not_retried(monkeypatch: pytest.MonkeyPatch, darwin: FakeDarwin) -> None:
    body = payload("a.png")
    body["items"][0]["colour"] = "red"
    with pytest.raises(PlatformError) as caught:
        hook(monkeypatch, darwin).register_existing(body)
    assert caught.value.status == 400 and not caught.value.retryable and "colour" in str(caught.value)
    too_many = payload(*[f"{i}.png" for i in range(101)])
    with pytest.raises(PlatformError, match="HTTP 400"):
        hook(monkeypatch, darwin).register_existing(too_many)
    assert len(darwin.state()["requests"]) == 2


def test_test_connection(monkeypatch: pytest.MonkeyPatch, darwin: FakeDarwin) -> None:
    assert hook(monkeypatch, darwin).test_connection() == (True, "Connected to V7 Darwin team 'demo-team'")
    ok, message = hook(monkeypatch, darwin, team="other-team").test_connection()
    assert not ok and "belongs to team 'demo-team', not 'other-team'" in message
    ok, message = hook(monkeypatch, darwin, api_key="wrong").test_connection()
    assert not ok and "HTTP 401" in message


def test_a_connection_without_team_slug_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_DARWIN_BARE", json.dumps({"conn_type": "darwin", "password": "k"}))
    with pytest.raises(PlatformAuthError, match="no team_slug"):
        DarwinHook("darwin_bare").register_existing(payload("a.png"))


@pytest.mark.parametrize(("value", "seconds"), [("7", 7.0), (None, None), ("soon", None), ("0", 0.0)])
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds


def test_parse_retry_after_http_date() -> None:
    from email.utils import formatdate

    assert 8 <= (parse_retry_after(formatdate(time.time() + 10, usegmt=True)) or 0) <= 10


def test_latency_delays_every_registration_without_blocking_others(
    monkeypatch: pytest.MonkeyPatch, darwin: FakeDarwin
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    darwin.configure(latency_ms=300)
    client = hook(monkeypatch, darwin)
    started = time.monotonic()
    client.register_existing(payload("warm.png"))
    assert time.monotonic() - started >= 0.3
    clients = [hook(monkeypatch, darwin) for _ in range(4)]
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda n: clients[n].register_existing(payload(f"{n}.png")), range(4)))
    assert 0.3 <= time.monotonic() - started < 1.0  # four round trips at once, not one after another
    darwin.reset()
    started = time.monotonic()
    client.register_existing(payload("after-reset.png"))
    assert time.monotonic() - started < 0.3
