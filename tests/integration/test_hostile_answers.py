"""Whatever a platform answers over HTTP, a batch ends as one outcome per item, and a sync writes its report.

The hooks run for real against :class:`~tests.fakes.hostile.HostileServer`, which sends any status, headers and
bytes hypothesis makes up (or forwards to the fakes, replacing chosen answers): no exception but the one-line
refusal of the credentials, never a lost report. Also here: credential headers that must not follow a redirect
to another loopback port, and keys read from connections (stripped, checked, masked).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_ingest.core.errors import ConfigError, ConnectionConfigError, PlatformAuthError
from airflow_ingest.core.outcomes import OutcomeKind
from airflow_ingest.hooks.base import checked_secret
from airflow_ingest.platforms.darwin import register as darwin_hooks
from airflow_ingest.platforms.darwin.hook import DarwinHook
from airflow_ingest.platforms.redbrick import register as redbrick_hooks
from airflow_ingest.platforms.redbrick.hook import RedBrickHook
from tests.fakes.encord import FOLDER as ENCORD_FOLDER
from tests.fakes.encord import INTEGRATION as ENCORD_INTEGRATION
from tests.fakes.encord import FakeEncord
from tests.fakes.hostile import Answer, HostileServer
from tests.fakes.redbrick import FakeRedBrick
from tests.harness import BIN, FakeDarwin, MotoS3
from tests.unit.test_answer_properties import assert_one_per_item, darwin_answers, json_values, validation_answers

HYPOTHESIS = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
NAMES = ["a.png", "b.png", "c.png"]
DARWIN_BODY = json.dumps(
    {
        "items": [{"path": "/x", "type": "image", "storage_key": f"x/{n}", "name": n} for n in NAMES],
        "dataset_slug": "demo-dataset",
        "storage_slug": "demo-storage",
    }
)
TASKS = ["a/1.png", "b/2.png", "c/3.png"]
REDBRICK_BODY = json.dumps([{"name": n, "items": [n]} for n in TASKS])

statuses = st.sampled_from([200, 201, 204, 301, 302, 307, 400, 401, 403, 404, 409, 413, 422, 429, 500, 502, 503])
statuses |= st.integers(200, 599)
header_text = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=30)
headers = st.lists(
    st.tuples(st.sampled_from(["Retry-After", "Content-Type", "Content-Encoding", "X-Anything"]), header_text)
    | st.tuples(st.just("Retry-After"), st.sampled_from(["٣", "²", "1e400", "-1", "Wed, 21 Oct 2015 07:28:00 -0000"]))
    | st.tuples(st.just("Location"), st.sampled_from(["/elsewhere", "http://127.0.0.1:1/", "http://[", "", "/٣"])),
    max_size=3,
).map(tuple)


def bodies(shaped: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    return st.binary(max_size=120) | (json_values | shaped).map(lambda v: json.dumps(v).encode())


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    server = HostileServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def hooks(hostile: HostileServer) -> Iterator[tuple[DarwinHook, RedBrickHook]]:
    fast = {"max_attempts": 2, "wait_initial": 0, "wait_max": 0}
    darwin = {"conn_type": "darwin", "host": hostile.url, "password": FakeDarwin.API_KEY,
              "extra": {"team_slug": "demo-team", "requests_per_minute": 0, "timeout": 5}}  # fmt: skip
    ids = {"org_id": FakeRedBrick.ORG_ID, "project_id": FakeRedBrick.PROJECT_ID}
    redbrick = {"conn_type": "redbrick", "host": hostile.url, "password": FakeRedBrick.API_KEY,
                "extra": {**ids, "timeout": 5}}  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_CONN_DARWIN_HOSTILE", json.dumps(darwin))
        patch.setenv("AIRFLOW_CONN_REDBRICK_HOSTILE", json.dumps(redbrick))
        yield DarwinHook("darwin_hostile", **fast), RedBrickHook("redbrick_hostile", **fast)


def one_line_refusal(error: PlatformAuthError, status: int) -> None:
    assert "\n" not in str(error) and status in (401, 403, 404), (status, error)


@HYPOTHESIS
@given(statuses, headers, bodies(darwin_answers))
def test_any_v7_http_answer_gives_one_outcome_per_item(
    hostile: HostileServer, hooks: tuple[DarwinHook, RedBrickHook], status: int, header: Any, body: bytes
) -> None:
    hostile.answer(Answer(status, body, header))
    try:
        outcomes = darwin_hooks.register_batch(hooks[0], DARWIN_BODY)
    except PlatformAuthError as error:
        one_line_refusal(error, status)
        return
    assert_one_per_item(outcomes, [f"/x/{n}" for n in NAMES])


def graphql(data: Any) -> Answer:
    return Answer(200, json.dumps({"data": data}).encode())


VALID = {
    "sdkGetProjectName": graphql({"project": {"projectId": FakeRedBrick.PROJECT_ID, "name": "p"}}),
    "validateAndConvertToImportFormat": graphql(
        {
            "validateAndConvertToImportFormat": {
                "isValid": True,
                "converted": json.dumps([{"name": n, "items": [n]} for n in TASKS]),
            }
        }
    ),
    "createDatapoint": graphql({"createDatapoint": {"dpId": "dp", "taskId": "t"}}),
}
redbrick_shapes = json_values | st.fixed_dictionaries(
    {},
    optional={
        "data": json_values | validation_answers.map(lambda v: {"validateAndConvertToImportFormat": v}),
        "errors": json_values,
    },
)


@HYPOTHESIS
@given(st.sampled_from(sorted(VALID)), statuses, headers, bodies(redbrick_shapes))
def test_any_redbrick_http_answer_to_any_operation_gives_one_outcome_per_task(
    hostile: HostileServer,
    hooks: tuple[DarwinHook, RedBrickHook],
    operation: str,
    status: int,
    header: Any,
    body: bytes,
) -> None:
    hostile.answer(**{**VALID, operation: Answer(status, body, header)})
    try:
        outcomes = redbrick_hooks.register_batch(
            hooks[1], REDBRICK_BODY, FakeRedBrick.PROJECT_ID, FakeRedBrick.STORAGE_ID
        )
    except PlatformAuthError as error:
        assert "\n" not in str(error)
        return
    assert_one_per_item(outcomes, [f"/{n}" for n in TASKS])


# --- end to end: a sync through the fakes, with some answers replaced, still writes its report -------------------


def run_sync(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)


def darwin_sync(bucket: str, tmp_path: Path) -> list[str]:
    return [str(BIN / "airflow-ingest"), "sync", f"s3://{bucket}/", "--platform", "darwin",
            "--platform-conn-id", "darwin_test", "--dataset", "demo-dataset", "--storage", "demo-storage",
            "--state", str(tmp_path / "state"), "--runs", str(tmp_path / "runs")]  # fmt: skip


def report_rows(result: subprocess.CompletedProcess[str]) -> list[dict[str, str]]:
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    with Path(str(summary["report"])).with_suffix(".csv").open(newline="") as stream:
        return list(csv.DictReader(stream))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("answer", "first_item"),
    [
        (b'{"items": ["a.png"], "blocked_items": [{"name": "0.png", "path": "/cams", "slots": 7}]}', "blocked"),
        (b"<html>proxy error</html>", "failed"),
    ],
)
def test_a_v7_sync_whose_answers_are_mis_shaped_still_writes_its_report(
    answer: bytes, first_item: str, s3: MotoS3, darwin: FakeDarwin, tmp_path: Path
) -> None:
    bucket = "hostile-darwin"
    s3.seed(bucket, [(f"cams/{i}.png", 10) for i in range(5)])
    proxy = HostileServer(upstream=darwin.url)
    try:
        proxy.answer(dataset_slug=Answer(200, answer, (("Content-Type", "application/json"),), after_upstream=True))
        conn = darwin.conn(max_attempts=2, wait_initial=0, wait_max=0)
        conn = json.dumps({**json.loads(conn), "host": proxy.url})
        env = {**os.environ, "AIRFLOW_CONN_AWS_DEFAULT": s3.conn(), "AIRFLOW_CONN_DARWIN_TEST": conn}
        argv = darwin_sync(bucket, tmp_path)
        first = run_sync(argv, env)
        assert first.returncode == 3 and "Traceback" not in first.stderr, first.stderr[-3000:]
        rows = {r["item"]: r for r in report_rows(first)}
        assert [r["outcome"] for r in rows.values()] == [first_item] + ["failed"] * 4
        assert all(r["retryable"] == "True" and r["reason"] for r in rows.values() if r["outcome"] == "failed")

        proxy.answer()  # the platform answers properly again: what did land comes back as duplicates
        second = run_sync(argv, env)
        assert second.returncode == 0, second.stderr[-3000:]
        assert sorted(r["outcome"] for r in report_rows(second)) == ["duplicate"] * 5
    finally:
        proxy.stop()


@pytest.mark.slow
def test_a_redbrick_sync_whose_answers_are_mis_shaped_still_writes_its_report(
    s3: MotoS3, redbrick: FakeRedBrick, tmp_path: Path
) -> None:
    bucket = "hostile-redbrick"
    s3.seed(bucket, [(f"cams/{i}.png", 10) for i in range(4)])
    proxy = HostileServer(upstream=redbrick.url)
    try:
        proxy.answer(createDatapoint=Answer(200, b'{"data": {"createDatapoint": "odd"}}', after_upstream=True))
        conn = json.dumps({**json.loads(redbrick.conn(max_attempts=2, wait_initial=0, wait_max=0)), "host": proxy.url})
        env = {**os.environ, "AIRFLOW_CONN_AWS_DEFAULT": s3.conn(), "AIRFLOW_CONN_PLATFORM_TEST": conn}
        argv = [str(BIN / "airflow-ingest"), "sync", f"s3://{bucket}/", "--platform", "redbrick",
                "--platform-conn-id", "platform_test", "--state", str(tmp_path / "state"),
                "--runs", str(tmp_path / "runs"), "--storage-id", FakeRedBrick.STORAGE_ID,
                "--project-id", FakeRedBrick.PROJECT_ID]  # fmt: skip
        first = run_sync(argv, env)
        assert first.returncode == 3 and "Traceback" not in first.stderr, first.stderr[-3000:]
        rows = report_rows(first)
        assert len(rows) == 4 and {r["outcome"] for r in rows} == {"failed"}
        assert all(r["reason"].endswith("without a task id (redbrick-sdk reports this as {}): odd") for r in rows)
        assert all(r["retryable"] == "True" for r in rows)

        proxy.answer()
        second = run_sync(argv, env)
        assert second.returncode == 0, second.stderr[-3000:]
        assert sorted(r["outcome"] for r in report_rows(second)) == ["duplicate"] * 4
    finally:
        proxy.stop()


# --- credential headers never follow a redirect to another host ---------------------------------------------------


@pytest.mark.parametrize("platform", ["darwin", "redbrick"])
def test_credential_headers_do_not_follow_a_redirect_to_another_port(
    platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere, origin = HostileServer(), HostileServer()
    try:
        elsewhere.answer(Answer(401, b'{"errors": "who are you"}'))
        origin.answer(Answer(307, b"", (("Location", elsewhere.url + "/collect"),)))
        key = FakeDarwin.API_KEY if platform == "darwin" else FakeRedBrick.API_KEY
        if platform == "darwin":
            conn = {"conn_type": "darwin", "host": origin.url, "password": key, "extra": {"team_slug": "t"}}
        else:
            conn = {"conn_type": "redbrick", "host": origin.url, "password": key,
                    "extra": {"org_id": FakeRedBrick.ORG_ID}}  # fmt: skip
        monkeypatch.setenv("AIRFLOW_CONN_REDIRECTED", json.dumps(conn))
        hook: DarwinHook | RedBrickHook = (DarwinHook if platform == "darwin" else RedBrickHook)(
            "redirected", max_attempts=1
        )

        def call() -> Any:
            return hook.token_info() if isinstance(hook, DarwinHook) else hook.organization()

        with pytest.raises(PlatformAuthError):
            call()
        assert len(origin.seen) == 1 and any(key in v for v in origin.seen[0].headers.values())
        assert len(elsewhere.seen) == 1, "the redirect was followed"
        assert not any(key in v for v in elsewhere.seen[0].headers.values()), elsewhere.seen[0].headers

        # the same host keeps the key: a redirect within the API (a trailing slash) still works
        origin.answer(Answer(307, b"", (("Location", "/again"),)), again=Answer(401, b"{}"))
        with pytest.raises(PlatformAuthError):
            call()
        assert [s.path for s in origin.seen][-1] == "/again"
        assert any(key in v for v in origin.seen[-1].headers.values())
    finally:
        elsewhere.stop()
        origin.stop()


# --- keys read from connections --------------------------------------------------------------------------------


def test_a_key_pasted_with_a_trailing_newline_works(monkeypatch: pytest.MonkeyPatch, darwin: FakeDarwin) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_DARWIN_PASTED", darwin.conn(api_key=f"  {FakeDarwin.API_KEY}\r\n"))
    outcomes = darwin_hooks.register_batch(DarwinHook("darwin_pasted", max_attempts=1), DARWIN_BODY)
    assert [o.outcome for o in outcomes] == [OutcomeKind.REGISTERED] * 3


@pytest.mark.parametrize(
    ("key", "what"),
    [
        ("fake-darwin key-0123456789", "whitespace at character 12"),
        ("fake-darwin-key\n0123456789", "whitespace at character 16"),
        ("fake-darwin-kéy-0123456789", "a non-ASCII character at character 14"),
        ("fake-darwin-key-0123456789\x00", "a control character at character 27"),
    ],
)
def test_a_malformed_key_is_one_line_that_never_quotes_it_and_nothing_is_sent(
    key: str, what: str, monkeypatch: pytest.MonkeyPatch, darwin: FakeDarwin, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_DARWIN_BAD_KEY", darwin.conn(api_key=key))
    with caplog.at_level(logging.DEBUG), pytest.raises(ConnectionConfigError) as caught:
        darwin_hooks.register_batch(DarwinHook("darwin_bad_key"), DARWIN_BODY)
    message = str(caught.value)
    assert what in message and "\n" not in message and isinstance(caught.value, ConfigError)
    for fragment in (key, repr(key), key.strip()[:12], key.strip()[-10:]):
        assert fragment not in message and fragment not in caplog.text
    assert darwin.state()["requests"] == []  # refused before any request, so never retried


def test_wrong_types_in_the_extra_and_unusable_hosts_are_one_line_configuration_errors(
    monkeypatch: pytest.MonkeyPatch, darwin: FakeDarwin, redbrick: FakeRedBrick
) -> None:
    cases = [
        (darwin.conn(timeout="soon"), "extra.timeout='soon' is invalid: use a number above 0"),
        (darwin.conn(max_attempts=float("nan")), "extra.max_attempts"),
        (darwin.conn(requests_per_minute=[100]), "extra.requests_per_minute=[100] is invalid"),
        (darwin.conn(team={"slug": "x"}), "extra.team_slug"),
        (json.dumps({**json.loads(darwin.conn()), "host": "ftp://127.0.0.1"}), "scheme 'ftp' is not http or https"),
        (json.dumps({**json.loads(darwin.conn()), "host": "http://127.0.0.1:99999"}), "host='http://127.0.0.1:99999'"),
        (json.dumps({**json.loads(darwin.conn()), "extra": [1, 2]}), "extra is a JSON list"),
    ]
    for conn, expected in cases:
        monkeypatch.setenv("AIRFLOW_CONN_DARWIN_TYPES", conn)
        with pytest.raises(ConnectionConfigError) as caught:
            darwin_hooks.register_batch(DarwinHook("darwin_types"), DARWIN_BODY)
        assert expected in str(caught.value) and "\n" not in str(caught.value), str(caught.value)
    monkeypatch.setenv("AIRFLOW_CONN_REDBRICK_TYPES", redbrick.conn(duplicate_pattern="(unclosed"))
    with pytest.raises(ConnectionConfigError, match=r"extra.duplicate_pattern='\(unclosed' is not a regular"):
        RedBrickHook("redbrick_types").organization()
    assert darwin.state()["requests"] == [] and redbrick.state()["requests"] == []


def test_checked_secret_strips_refuses_and_never_quotes() -> None:
    assert checked_secret("c", "password", "  abc-DEF_123\n") == "abc-DEF_123"
    with pytest.raises(ConnectionConfigError, match="is a int: put the key in as text"):
        checked_secret("c", "password", 12345678)
    with pytest.raises(ConnectionConfigError) as caught:
        checked_secret("c", "password", "abc\tdef")
    assert "abc" not in str(caught.value)


@pytest.mark.slow
@pytest.mark.parametrize(
    "answer",
    [b'{"status": "DONE", "items_with_names": "oops", "unit_errors": 5}', b'{"status": "FINISHED"}'],
)
def test_an_encord_sync_whose_job_states_are_mis_shaped_still_writes_its_report(
    answer: bytes, s3: MotoS3, encord: FakeEncord, tmp_path: Path
) -> None:
    bucket = "hostile-encord"
    s3.seed(bucket, [(f"cams/{i}.png", 10) for i in range(4)])
    proxy = HostileServer(upstream=encord.url)
    try:
        proxy.answer(**{"data-upload-jobs/": Answer(200, answer, (("Content-Type", "application/json"),))})
        conn = json.dumps({**json.loads(encord.conn(max_attempts=2, wait_max=0)), "host": proxy.url})
        env = {**os.environ, "AIRFLOW_CONN_AWS_DEFAULT": s3.conn(), "AIRFLOW_CONN_PLATFORM_TEST": conn}
        argv = [str(BIN / "airflow-ingest"), "sync", f"s3://{bucket}/", "--platform", "encord",
                "--platform-conn-id", "platform_test", "--state", str(tmp_path / "state"),
                "--runs", str(tmp_path / "runs"), "--folder", ENCORD_FOLDER,
                "--integration", ENCORD_INTEGRATION]  # fmt: skip
        first = run_sync(argv, env)
        assert first.returncode == 3 and "Traceback" not in first.stderr, first.stderr[-3000:]
        rows = report_rows(first)
        assert len(rows) == 4 and {r["outcome"] for r in rows} == {"failed"}
        assert all(r["retryable"] == "True" and "polling job" in r["reason"] for r in rows), rows[0]

        proxy.answer()  # Encord answers properly again: the next sync's job skips what the first one added
        second = run_sync(argv, env)
        assert second.returncode == 0, second.stderr[-3000:]
        assert sorted(r["outcome"] for r in report_rows(second)) == ["duplicate"] * 4
    finally:
        proxy.stop()


@pytest.mark.slow
def test_the_cli_strips_a_pasted_key_and_refuses_a_broken_one_in_one_line(
    s3: MotoS3, darwin: FakeDarwin, tmp_path: Path
) -> None:
    bucket = "cli-keys"
    s3.seed(bucket, [(f"k/{i}.png", 10) for i in range(3)])
    argv = darwin_sync(bucket, tmp_path)
    spaced = "fake-darwin key-0123456789"
    env = {**os.environ, "AIRFLOW_CONN_AWS_DEFAULT": s3.conn(), "AIRFLOW_CONN_DARWIN_TEST": darwin.conn(api_key=spaced)}
    broken = run_sync(argv, env)
    assert broken.returncode == 2 and broken.stdout == "", broken.stderr[-3000:]
    assert broken.stderr.strip().splitlines() == [
        "airflow-ingest: error: connection 'darwin_test': password (the API key) holds whitespace at character 12 "
        "of 26: an API key is printable ASCII only; copy it again from the platform"
    ]
    assert darwin.state()["requests"] == [] and not (tmp_path / "runs").exists()  # stopped before listing

    env["AIRFLOW_CONN_DARWIN_TEST"] = darwin.conn(api_key=FakeDarwin.API_KEY + "\n")
    pasted = run_sync(argv, env)
    assert pasted.returncode == 0, pasted.stderr[-3000:]
    assert sorted(r["outcome"] for r in report_rows(pasted)) == ["registered"] * 3
    printed = broken.stdout + broken.stderr + pasted.stdout + pasted.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file() and b"fake-darwin" in p.read_bytes()]
    assert "fake-darwin" not in printed and "key-0123456789" not in printed and written == []
