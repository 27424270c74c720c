"""The hook against the real Label Studio server: both kinds of token, and keys resolved through the storage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from airflow_ingest.core.errors import PlatformAuthError
from airflow_ingest.core.outcomes import OutcomeKind
from airflow_ingest.platforms.labelstudio.documents import key_problem
from airflow_ingest.platforms.labelstudio.hook import LabelStudioHook
from airflow_ingest.platforms.labelstudio.register import send_batch
from tests.harness import MotoS3
from tests.integration.platforms.labelstudio.conftest import BUCKET, Project, plan, put
from tests.labelstudio_server import LabelStudio


def hook_with(monkeypatch: pytest.MonkeyPatch, conn: str) -> LabelStudioHook:
    monkeypatch.setenv("AIRFLOW_CONN_LS_TOKEN", conn)
    return LabelStudioHook("ls_token")


def test_a_legacy_token_connects(labelstudio: LabelStudio, monkeypatch: pytest.MonkeyPatch) -> None:
    ok, message = hook_with(monkeypatch, labelstudio.conn()).test_connection()
    assert ok, message
    assert "airflow-ingest@example.com" in message


def test_a_personal_access_token_connects_and_is_exchanged_again_when_its_access_token_expires(
    labelstudio: LabelStudio, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = hook_with(monkeypatch, labelstudio.conn(labelstudio.personal_token(), project_id=project.id))
    ok, message = hook.test_connection()
    assert ok and "project 'airflow-ingest tests'" in message, message
    hook._access = "eyJ.expired.token"  # as after five minutes: the server answers 401, the hook refreshes once
    assert hook.whoami()["email"] == "airflow-ingest@example.com"


@pytest.mark.parametrize("token", ["not-a-token-at-all", "eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2lnbmF0dXJl"])
def test_a_wrong_token_fails_the_connection_test_with_the_reason(
    labelstudio: LabelStudio, monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    ok, message = hook_with(monkeypatch, labelstudio.conn(token)).test_connection()
    assert not ok
    assert "refused the token" in message and "HTTP 401" in message


def test_an_unknown_project_stops_the_run(labelstudio: LabelStudio, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(PlatformAuthError, match="no project 999999"):
        send_batch(hook_with(monkeypatch, labelstudio.conn()), 999999, "[]")


ACCEPTED = ["res/a b.png", "res/semi;colon.png", "res/dir;x/ok.png", "res/pct%41.png", "res/hash#x.png"]
ACCEPTED += ["res/uni é.png", "res/tail .png", "res/a//b.png", "res/plus+x.png", "res/emoji 😀.png"]
BROKEN = ["res/q?x.png", "res/trail.png "]
"""Keys the server itself resolves to another object (or none)."""
REFUSED = [*BROKEN, "res/a/./b.png"]
"""Those and a dot segment, which the server passes on as it is but a browser resolves before fetching."""


def fetch(server: LabelStudio, task_id: int) -> bytes | None:
    """The object Label Studio serves for the task's URL (its resolve endpoint, then the signed URL)."""
    task = server.api("GET", f"/api/tasks/{task_id}")
    value = next(v for k, v in task["data"].items() if k != "airflow_ingest")
    response = server.session.get(server.url + value, timeout=30, allow_redirects=True)
    return response.content if response.status_code == 200 else None


def test_every_key_it_accepts_resolves_to_exactly_that_object_and_those_it_refuses_would_not(
    labelstudio: LabelStudio, project: Project, hook: LabelStudioHook, s3: MotoS3, tmp_path: Path
) -> None:
    put(s3, ACCEPTED + REFUSED)
    planned = plan(s3, tmp_path, "res/", project.id)
    skipped = [json.loads(line)["url"] for line in (tmp_path / "skipped.jsonl").read_text().splitlines()]
    assert sorted(skipped) == sorted(f"s3://{BUCKET}/{k}" for k in REFUSED)
    outcomes = send_batch(hook, project.id, *planned.batches[0])
    assert {o.outcome for o in outcomes} == {OutcomeKind.REGISTERED}
    for task in project.tasks():
        key = task["data"]["image"].split("/", 3)[3]
        assert fetch(labelstudio, task["id"]) == key.encode("utf-8"), key

    # the refused keys, sent anyway, would show another object or none: the refusals are needed
    raw = [{"data": {"image": f"s3://{BUCKET}/{k}"}} for k in BROKEN]
    made = labelstudio.api("POST", f"/api/projects/{project.id}/import?return_task_ids=true", json=raw)["task_ids"]
    for key, task_id in zip(BROKEN, made, strict=True):
        assert key_problem(key, "s3") is not None
        assert fetch(labelstudio, task_id) != key.encode("utf-8"), key


def test_lookups_ignore_tasks_without_the_marker(labelstudio: LabelStudio, project: Project) -> None:
    labelstudio.api("POST", f"/api/projects/{project.id}/import", json=[{"data": {"image": "s3://x/y.png"}}])
    answer = requests.get(
        f"{labelstudio.url}/api/tasks/",
        params={"project": project.id, "page_size": 10},
        headers={"Authorization": labelstudio.session.headers["Authorization"]},
        timeout=30,
    ).json()
    assert answer["total"] == 1
