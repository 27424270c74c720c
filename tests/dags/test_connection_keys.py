"""API keys as people paste them, through a real DAG run: stripped and working, or refused once in one line,
and never anywhere in any encoding (task logs, XCom and the rest of the metadata DB, the run's files, output)."""

from __future__ import annotations

import base64
import sqlite3
from urllib.parse import quote

import pytest

from tests.harness import AirflowHome, FakeDarwin, MotoS3

BUCKET = "keys-bucket"


def encodings(secret: str) -> list[str]:
    raw = secret.encode()
    return [
        secret,
        repr(secret)[1:-1],
        quote(secret, safe=""),
        base64.b64encode(raw).decode().rstrip("="),
        base64.b64encode(b"ApiKey " + raw).decode().rstrip("="),
        raw.hex(),
    ]


@pytest.mark.slow
def test_a_key_pasted_with_a_newline_registers_and_leaks_nowhere(
    airflow_home: AirflowHome, s3: MotoS3, darwin: FakeDarwin
) -> None:
    s3.seed(BUCKET, [(f"pasted/{i}.jpg", 10) for i in range(5)])
    pasted = FakeDarwin.API_KEY + "\n"

    run = airflow_home.dags_test(
        "ingest_manual", {"source": f"s3://{BUCKET}/pasted/"}, AIRFLOW_CONN_DARWIN_DEFAULT=darwin.conn(api_key=pasted)
    )

    assert run.state == "success", run.output[-3000:]
    assert run.report()["totals"]["registered"] == 5
    for form in encodings(FakeDarwin.API_KEY) + encodings(pasted):
        assert airflow_home.leaks(form, run) == [], form


@pytest.mark.slow
def test_a_key_with_a_space_inside_fails_the_register_task_once_in_one_line(
    airflow_home: AirflowHome, s3: MotoS3, darwin: FakeDarwin
) -> None:
    s3.seed(BUCKET, [(f"spaced/{i}.jpg", 10) for i in range(3)])
    spaced = "fake-darwin key-0123456789"

    run = airflow_home.dags_test(
        "ingest_manual", {"source": f"s3://{BUCKET}/spaced/"}, AIRFLOW_CONN_DARWIN_DEFAULT=darwin.conn(api_key=spaced)
    )

    assert run.state == "failed" and run.task("darwin.register", 0) == "failed", run.output[-3000:]
    expected = "connection 'darwin_default': password (the API key) holds whitespace at character 12 of 26"
    assert expected in run.output
    assert f"AirflowFailException: {expected}" in run.output  # Airflow's own no-retry failure, with our one line
    with sqlite3.connect(airflow_home.path / "airflow.db") as db:
        tries = db.execute(
            "SELECT try_number, max_tries FROM task_instance WHERE task_id = 'darwin.register' AND run_id = ?",
            (run.run_id,),
        ).fetchall()
    assert [t for t, _ in tries] == [1] and tries[0][1] > 0, tries  # retries allowed, yet failed once
    assert darwin.state()["requests"] == []  # nothing was sent with the broken key
    for form in [*encodings(spaced), "fake-darwin", "key-0123456789"]:
        assert airflow_home.leaks(form, run) == [], form
