"""Faults between the hook and the real Label Studio server: lost answers, 5xx and 429 never double a task.

The proxy (``tests/fakes/labelstudio.py``) numbers imports and task lookups together in arrival order: for one
batch, a round is a lookup then an import, so request 1 is the first lookup, 2 the first import, 3 the lookup of
round two, and so on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from airflow_ingest.core.outcomes import OutcomeKind
from airflow_ingest.platforms.labelstudio.hook import LabelStudioHook
from airflow_ingest.platforms.labelstudio.register import send_batch
from tests.fakes.fault_proxy import Fault, FaultProxy, Schedule
from tests.fakes.labelstudio import EMPTY_LOOKUP, LOST, error_body, failure, labelstudio_proxy
from tests.harness import MotoS3
from tests.integration.platforms.labelstudio.conftest import Planned, Project, plan, put
from tests.labelstudio_server import LabelStudio


@pytest.fixture(scope="module")
def proxy(labelstudio: LabelStudio) -> Iterator[FaultProxy]:
    server = labelstudio_proxy(labelstudio.url)
    yield server
    server.stop()


@pytest.fixture
def faulty(labelstudio: LabelStudio, proxy: FaultProxy, s3: MotoS3, monkeypatch: pytest.MonkeyPatch) -> LabelStudioHook:
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", s3.conn())
    conn = labelstudio.conn(url=proxy.url, wait_initial=0.05, wait_max=0.2, max_attempts=4)
    monkeypatch.setenv("AIRFLOW_CONN_LS_FAULTY", conn)
    return LabelStudioHook("ls_faulty")


@pytest.fixture
def batch(project: Project, s3: MotoS3, tmp_path: Path) -> Planned:
    keys = [f"faults/{tmp_path.name}/{n:02d}.png" for n in range(25)]
    put(s3, keys)
    return plan(s3, tmp_path, f"faults/{tmp_path.name}/", project.id)


def send(hook: LabelStudioHook, project: Project, batch: Planned, proxy: FaultProxy, *faults: tuple[int, Fault]):  # type: ignore[no-untyped-def]
    proxy.configure(Schedule(at=dict(faults)))
    body, ids = batch.batches[0]
    return send_batch(hook, project.id, body, ids)


@pytest.mark.parametrize("fault", [LOST, Fault(dropped=True), failure(500), failure(503), failure(429)])
def test_an_import_whose_answer_is_lost_or_failed_is_looked_up_and_never_doubled(
    faulty: LabelStudioHook, project: Project, batch: Planned, proxy: FaultProxy, fault: Fault
) -> None:
    outcomes = send(faulty, project, batch, proxy, (2, fault))
    assert proxy.faults == [(2, fault)]
    assert {o.outcome for o in outcomes} == {OutcomeKind.REGISTERED}
    assert len(project.tasks()) == 25


def test_a_lost_answer_then_a_lookup_too_early_leaves_one_copy_of_each_task(
    faulty: LabelStudioHook, project: Project, batch: Planned, proxy: FaultProxy
) -> None:
    """The import committed, but the next lookup saw nothing yet: the resend doubles, the check after undoes it."""
    outcomes = send(faulty, project, batch, proxy, (2, LOST), (3, EMPTY_LOOKUP))
    assert {o.outcome for o in outcomes} == {OutcomeKind.REGISTERED}
    tasks = project.tasks()
    assert len(tasks) == 25
    assert len({t["data"]["airflow_ingest"] for t in tasks}) == 25


def test_a_failing_lookup_is_retried(
    faulty: LabelStudioHook, project: Project, batch: Planned, proxy: FaultProxy
) -> None:
    outcomes = send(faulty, project, batch, proxy, (1, failure(502)), (2, failure(503)))
    assert {o.outcome for o in outcomes} == {OutcomeKind.REGISTERED}
    assert len(project.tasks()) == 25


def test_an_import_that_never_gets_an_answer_fails_retryable_without_doubling(
    faulty: LabelStudioHook, project: Project, batch: Planned, proxy: FaultProxy
) -> None:
    proxy.configure(Schedule(at={n: failure(503) for n in range(2, 40, 2)}))  # every import, never a lookup
    body, ids = batch.batches[0]
    outcomes = send_batch(faulty, project.id, body, ids)
    assert {(o.outcome, o.retryable) for o in outcomes} == {(OutcomeKind.FAILED, True)}
    assert "after 4 attempts: HTTP 503" in outcomes[0].reason
    assert project.tasks() == []


def test_the_proxy_answers_as_the_real_server_does(labelstudio: LabelStudio, project: Project) -> None:
    """The canned bodies have the real server's shapes: its error document and its empty task list."""
    headers = {"Authorization": str(labelstudio.session.headers["Authorization"])}
    real_error = requests.get(f"{labelstudio.url}/api/tasks/?page=99&project={project.id}", headers=headers, timeout=30)
    assert real_error.status_code == 404
    assert set(real_error.json()) == set(json.loads(error_body(503, "x")))
    query = {"filters": {"conjunction": "and", "items": []}}
    params = {"project": project.id, "query": json.dumps(query), "include": "id,data"}
    real_empty = requests.get(f"{labelstudio.url}/api/tasks/", params=params, headers=headers, timeout=30).json()
    assert real_empty == json.loads(EMPTY_LOOKUP.body)
