"""Ctrl-C in the CLI: one line on stderr and exit 130 (what a shell reports for SIGINT), never a traceback.

Each command is interrupted while it waits on the network (an S3 endpoint that accepted the request and went
quiet), which is where a person presses Ctrl-C; the signal is sent once the server has seen the request, so
the test does not depend on timing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.hostile import Answer, HostileServer
from tests.harness import BIN, aws_conn

TARGET = ["--dataset", "d", "--storage", "s"]


@pytest.fixture(scope="module")
def quiet_s3() -> Iterator[HostileServer]:
    server = HostileServer()
    yield server
    server.stop()


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(
    "command",
    [
        ["ls", "s3://quiet-bucket/"],
        ["plan", "s3://quiet-bucket/", "--platform", "darwin", "--dataset", "d", "--storage", "s"],
        ["sync", "s3://quiet-bucket/", "--platform", "darwin", "--platform-conn-id", "darwin_default", *TARGET],
    ],
    ids=["ls", "plan", "sync"],
)
def test_ctrl_c_prints_one_line_and_exits_130(command: list[str], quiet_s3: HostileServer, tmp_path: Path) -> None:
    quiet_s3.answer(Answer(200, b"", hang=60))
    darwin = {"conn_type": "darwin", "host": "http://127.0.0.1:1", "password": "k" * 24, "extra": {"team_slug": "t"}}
    env = {
        **os.environ,
        "AIRFLOW_CONN_AWS_DEFAULT": aws_conn(quiet_s3.url),
        "AIRFLOW_CONN_DARWIN_DEFAULT": json.dumps(darwin),
    }
    places = {
        "ls": [],
        "plan": ["--out", str(tmp_path / "out")],
        "sync": ["--state", str(tmp_path / "state"), "--runs", str(tmp_path / "runs")],
    }[command[0]]
    process = subprocess.Popen(
        [str(BIN / "airflow-ingest"), *command, *places],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As a terminal starts a foreground command: SIGINT at its default. A runner started in the background
        # (`make test &`) ignores SIGINT, and an ignored signal stays ignored across exec, so Python would never
        # see the Ctrl-C this test sends.
        preexec_fn=_sigint_default,
    )
    try:
        deadline = time.monotonic() + 120
        while not quiet_s3.seen:  # the command is now waiting for the listing's answer
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the command never reached S3"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err[-3000:]
    assert err.strip().splitlines()[-1] == "airflow-ingest: interrupted by Ctrl-C" and "Traceback" not in err, err
