"""EncordHook through the real SDK against the fake Encord over HTTP: auth, strictness, faults, exactly once."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.errors import ConfigError, PlatformAuthError, PlatformError
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.outcomes import Outcome, OutcomeKind
from airflow_ingest.core.plan import Plan, make_plan, path_opener
from airflow_ingest.core.report import outcome_path, read_outcomes, write_outcomes
from airflow_ingest.platforms.encord.documents import EncordManifests
from airflow_ingest.platforms.encord.hook import EncordHook, StartUnanswered
from airflow_ingest.platforms.encord.jobs import (
    JobRecord,
    job_record_path,
    parse_destination,
    read_job_record,
    spec_fingerprint,
    write_job_record,
)
from airflow_ingest.platforms.encord.register import batch_spec, register_batch, start_or_resume
from airflow_ingest.platforms.encord.target import EncordTarget
from tests.fakes.encord import DATASET, FOLDER, INTEGRATION, FakeEncord, new_key

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)
TARGET = EncordTarget(region="eu-west-2")
TO_FOLDER = parse_destination({"folder_uuid": FOLDER, "integration_id": INTEGRATION})
TO_DATASET = parse_destination({"dataset_hash": DATASET, "integration_id": INTEGRATION})
SPEC = {"images": [{"objectUrl": "s3://b/a.png", "title": "a.png"}], "skip_duplicate_urls": True}


def hook(monkeypatch: pytest.MonkeyPatch, encord: FakeEncord, **conn: Any) -> EncordHook:
    monkeypatch.setenv("AIRFLOW_CONN_ENCORD_TEST", encord.conn(**conn))
    return EncordHook("encord_test")


def plan_run(run: Path, keys: list[str], max_entries: int, **target: Any) -> Plan:
    objects = [StoredObject(f"s3://bkt/{k}", "bkt", k, 100, f"etag-{k}", NOW) for k in keys]
    chosen = EncordTarget.model_validate({"region": "eu-west-2", **target})
    return make_plan(objects, EncordManifests(chosen), Limits(max_entries=max_entries), path_opener(run))


def register_all(h: EncordHook, run: Path, plan: Plan, numbers: range, destination: Any = TO_FOLDER) -> None:
    for number in numbers:
        outcomes = register_batch(h, run, plan, number, destination, TARGET, timeout=60, poll_seconds=2)
        write_outcomes(outcome_path(run / plan.batches[number - 1].path), outcomes)


def outcomes_of(run: Path, plan: Plan) -> dict[str, Outcome]:
    found: dict[str, Outcome] = {}
    for batch in plan.batches:
        found.update(read_outcomes(outcome_path(run / batch.path)) or {})
    return found


def link(key: str) -> str:
    return f"https://bkt.s3.eu-west-2.amazonaws.com/{key}"


@pytest.mark.parametrize("destination", [TO_FOLDER, TO_DATASET], ids=["folder", "dataset"])
def test_registers_then_reports_duplicates(
    monkeypatch: pytest.MonkeyPatch, encord: FakeEncord, tmp_path: Path, destination: Any
) -> None:
    h = hook(monkeypatch, encord)
    plan = plan_run(tmp_path / "one", ["a/1.png", "a/2.png", "v/clip.mp4"], 10)
    register_all(h, tmp_path / "one", plan, range(1, 2), destination)
    assert {o.outcome for o in outcomes_of(tmp_path / "one", plan).values()} == {OutcomeKind.REGISTERED}
    again = plan_run(tmp_path / "two", ["a/1.png", "a/2.png", "v/clip.mp4"], 10)
    register_all(h, tmp_path / "two", again, range(1, 2), destination)
    assert {o.outcome for o in outcomes_of(tmp_path / "two", again).values()} == {OutcomeKind.DUPLICATE}
    held = encord.state()["registered"][f"{destination.kind}:{destination.target_id}"]
    assert held == {link("a/1.png"): 1, link("a/2.png"): 1, link("v/clip.mp4"): 1}


def test_a_wrong_key_is_a_clear_auth_error_sent_once(monkeypatch: pytest.MonkeyPatch, encord: FakeEncord) -> None:
    other, _ = new_key()
    with pytest.raises(PlatformAuthError, match=r"refused the credentials of connection 'encord_test'") as caught:
        hook(monkeypatch, encord, private_key=other).start_job(TO_FOLDER, SPEC)
    assert other.splitlines()[1] not in str(caught.value)
    assert [r["status"] for r in encord.state()["requests"]] == [401]
    assert encord.state()["jobs"] == []


def test_bearer_tokens_and_test_connection(monkeypatch: pytest.MonkeyPatch, encord: FakeEncord) -> None:
    ok, message = hook(monkeypatch, encord, bearer_token=FakeEncord.BEARER).test_connection()
    assert ok and message.endswith("1 cloud integrations visible")
    assert hook(monkeypatch, encord).test_connection()[0]
    ok, message = hook(monkeypatch, encord, bearer_token="not-the-token-0000").test_connection()
    assert not ok and "refused the credentials" in message and "not-the-token-0000" not in message
    other, _ = new_key()
    ok, message = hook(monkeypatch, encord, private_key=other).test_connection()
    assert not ok and "refused the credentials" in message


def test_a_key_of_another_type_is_refused_without_quoting_it(monkeypatch: pytest.MonkeyPatch) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    text = rsa_key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()).decode()
    monkeypatch.setenv("AIRFLOW_CONN_ENCORD_RSA", json.dumps({"conn_type": "encord", "password": text}))
    with pytest.raises(PlatformAuthError, match="Ed25519 keys only") as caught:
        EncordHook("encord_rsa").start_job(TO_FOLDER, SPEC)
    assert all(line not in str(caught.value) for line in text.splitlines()[1:-1])
    monkeypatch.setenv("AIRFLOW_CONN_ENCORD_JUNK", json.dumps({"conn_type": "encord", "password": "hunter2-junk"}))
    ok, message = EncordHook("encord_junk").test_connection()
    assert not ok and "not an unencrypted private key in OpenSSH format" in message and "hunter2" not in message


def test_the_start_is_retried_after_429_but_never_after_an_unanswered_request(
    monkeypatch: pytest.MonkeyPatch, encord: FakeEncord
) -> None:
    h = hook(monkeypatch, encord)
    encord.configure(faults=[{"route": "start", "status": 429, "retry_after": 1}])
    assert h.start_job(TO_FOLDER, SPEC)
    assert len(encord.state()["jobs"]) == 1
    for fault in ({"status": 500, "after_commit": True}, {"malformed": True}, {"reset": True}, {"status": 503}):
        encord.configure(faults=[{"route": "start", **fault}])
        with pytest.raises(StartUnanswered, match="Encord may have started it") as caught:
            h.start_job(TO_FOLDER, SPEC)
        assert caught.value.retryable
    starts = [r["status"] for r in encord.state()["requests"] if r["route"] == "start"]
    assert starts == [429, 200, 500, "malformed", "reset", 503]  # one request per start: never resent blindly
    assert len(encord.state()["jobs"]) == 4  # the three committed ghosts exist; the 503 started nothing


def test_a_slow_start_times_out_and_is_not_resent(monkeypatch: pytest.MonkeyPatch, encord: FakeEncord) -> None:
    h = hook(monkeypatch, encord, timeout=2)
    encord.configure(faults=[{"route": "start", "delay": 4}])
    with pytest.raises(StartUnanswered, match="Encord may have started it"):
        h.start_job(TO_FOLDER, SPEC)
    assert [r["route"] for r in encord.state()["requests"]].count("start") == 1


def test_polls_ride_out_5xx_429_and_slow_answers(monkeypatch: pytest.MonkeyPatch, encord: FakeEncord) -> None:
    h = hook(monkeypatch, encord, timeout=3, max_retries=1)
    job = h.start_job(TO_FOLDER, SPEC)
    faults = [{"status": 500}, {"status": 500}, {"status": 429, "retry_after": 1}, {"status": 429}, {"delay": 5}]
    encord.configure(faults=[{"route": "poll", **f} for f in faults])
    result = h.wait(TO_FOLDER, job, timeout=30, poll_seconds=1)
    assert result.status == "DONE" and result.added == ("a.png",)
    assert encord.state()["faults_left"] == 0


def test_a_poll_cut_off_mid_answer_is_read_again(monkeypatch: pytest.MonkeyPatch, encord: FakeEncord) -> None:
    """The SDK's own poll loop sleeps 10 s after a broken answer; the job is still read, not restarted."""
    h = hook(monkeypatch, encord)
    job = h.start_job(TO_DATASET, SPEC)
    encord.configure(faults=[{"route": "poll", "reset": True}])
    assert h.poll(TO_DATASET, job, 5).status == "DONE"
    assert len(encord.state()["jobs"]) == 1


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ({"images": [{"objectUrl": "s3://b/a.png"}], "pictures": []}, "unknown top-level keys"),
        ({"images": [{"objectUrl": "s3://b/a b.png"}]}, "whitespace"),
        ({"image_groups": [{"objectUrl_0": "s3://b/a.png", "createVideo": False}]}, "title .* is required"),
        ({"images": [{"objectUrl": "s3://b/a.png", "colour": "red"}]}, "not documented"),
        ({"images": [{"objectUrl": f"s3://b/{n}.png"} for n in range(6)]}, "at most 5 entries"),
    ],
)
def test_the_fake_refuses_what_encord_documents_as_invalid(
    monkeypatch: pytest.MonkeyPatch, encord: FakeEncord, spec: dict[str, Any], why: str
) -> None:
    encord.configure(max_entries=5)
    with pytest.raises(PlatformError, match=f"Encord refused the spec.*{why}") as caught:
        hook(monkeypatch, encord).start_job(TO_FOLDER, spec)
    assert caught.value.status == 400 and not caught.value.retryable
    assert encord.state()["jobs"] == []


def test_unknown_integration_and_unknown_folder(monkeypatch: pytest.MonkeyPatch, encord: FakeEncord) -> None:
    h = hook(monkeypatch, encord)
    elsewhere = parse_destination({"folder_uuid": FOLDER, "integration_id": "00000000-0000-4000-8000-000000000000"})
    with pytest.raises(PlatformError, match=r"integration .* not found"):
        h.start_job(elsewhere, SPEC)
    nowhere = parse_destination({"folder_uuid": "00000000-0000-4000-8000-000000000001", "integration_id": INTEGRATION})
    with pytest.raises(PlatformAuthError, match="no such folder or dataset"):
        h.start_job(nowhere, SPEC)


def test_a_csv_manifest_is_refused(tmp_path: Path) -> None:
    (tmp_path / "batch-00001.csv").write_text("ObjectUrl,Image title\n")
    with pytest.raises(ConfigError, match="take JSON specs"):
        batch_spec(tmp_path / "batch-00001.csv")


def test_an_interrupted_start_without_skip_duplicate_urls_refuses_to_start_again(
    monkeypatch: pytest.MonkeyPatch, encord: FakeEncord, tmp_path: Path
) -> None:
    manifest = tmp_path / "manifests" / "batch-00001.json"
    manifest.parent.mkdir()
    body = json.dumps({"images": [{"objectUrl": "s3://b/a.png"}]})
    manifest.write_text(body)
    record = JobRecord(state="starting", destination=f"folder:{FOLDER}", spec=spec_fingerprint(body))
    write_job_record(job_record_path(manifest), record)
    with pytest.raises(PlatformError, match=r"no skip_duplicate_urls.*delete .*jobs/batch-00001.json"):
        start_or_resume(hook(monkeypatch, encord), manifest, body, TO_FOLDER)
    assert encord.state()["jobs"] == []


def test_a_few_thousand_objects_land_exactly_once_through_faults_and_a_crash(
    monkeypatch: pytest.MonkeyPatch, encord: FakeEncord, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    keys = [f"img/{n:05d}.png" if n % 97 else f"img/bad-{n:05d}.png" for n in range(3000)]
    bad = {k for k in keys if "/bad-" in k}
    h = hook(monkeypatch, encord)
    encord.configure(
        job_seconds=0.4,
        unit_errors={r"/bad-": "Expected an image, got a file of type text/html"},
        job_scripts=[{}, {"cancel_after": 200}, {}, {}],
        faults=[
            {"route": "poll", "status": 500},
            {"route": "poll", "status": 429, "retry_after": 1},
            {"route": "poll", "delay": 1},
            {"route": "poll", "status": 502},
        ],
    )
    first = tmp_path / "run-1"
    plan = plan_run(first, keys, 500)
    assert len(plan.batches) == 6
    register_all(h, first, plan, range(1, 4))
    # The crash: batch 4's job is started and recorded, then the process dies before it waits or writes outcomes.
    manifest = first / plan.batches[3].path
    crashed_job = start_or_resume(h, manifest, manifest.read_text(), TO_FOLDER)
    assert read_job_record(job_record_path(manifest)).job_id == crashed_job  # type: ignore[union-attr]

    # Airflow retries the run's tasks: batch 4 resumes its recorded job, 5 and 6 start theirs.
    register_all(h, first, plan, range(4, 7))
    assert len(encord.state()["jobs"]) == 6  # one job per batch: the retry resumed, never restarted
    after_first = outcomes_of(first, plan)
    assert len(after_first) == len(keys) == plan.items  # every planned item has an outcome
    cancelled = {i for i, o in after_first.items() if o.outcome is OutcomeKind.FAILED}
    assert cancelled and all(after_first[i].retryable and "cancelled" in after_first[i].reason for i in cancelled)

    # A fresh run (what `sync` does after a crash): everything is sent again; Encord skips what it holds.
    second = tmp_path / "run-2"
    again = plan_run(second, keys, 500)
    register_all(h, second, again, range(1, len(again.batches) + 1))
    final = outcomes_of(second, again)

    held = encord.state()["registered"][f"folder:{FOLDER}"]
    for key in keys:
        outcome = final[f"/{key}"]
        if key in bad:
            assert outcome.outcome is OutcomeKind.BLOCKED and "text/html" in outcome.reason, key
            assert link(key) not in held, key
            continue
        assert held.get(link(key)) == 1, key  # registered exactly once on the fake
        was_new = f"/{key}" in cancelled
        expected = OutcomeKind.REGISTERED if was_new else OutcomeKind.DUPLICATE
        assert outcome.outcome is expected, (key, outcome)
    assert len(held) == len(keys) - len(bad)

    private_key = encord.private_key
    secret_lines = [line for line in private_key.splitlines() if not line.startswith("-----")]
    captured = capfd.readouterr()
    texts = [captured.out, captured.err]
    texts += [p.read_text() for run in (first, second) for p in run.rglob("*.json")]
    assert not any(line in text for line in secret_lines for text in texts)
