"""`airflow-ingest ls` as a user runs it: a subprocess against moto server and a local folder."""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_ingest import cli
from airflow_ingest.cli import commands
from airflow_ingest.core.errors import StorageError
from tests.harness import BIN, MotoS3
from tests.unit.test_core import obj

BUCKET = "cli-bucket"
KEYS = ["a/b/x y.png", "a-c.jpg", "a/z.dcm", "big/clip.mp4", "notes.txt"]


@pytest.fixture(scope="module")
def seeded(s3: MotoS3) -> MotoS3:
    s3.seed(BUCKET, [(k, 10 * (i + 1)) for i, k in enumerate(KEYS)] + [("a/", 0)])
    return s3


def ls(*args: str, s3: MotoS3 | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    if s3 is not None:
        env["AIRFLOW_CONN_AWS_DEFAULT"] = s3.conn()
    return subprocess.run(
        [str(BIN / "airflow-ingest"), "ls", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_prints_json_lines_in_key_order_and_a_summary(seeded: MotoS3) -> None:
    result = ls(f"s3://{BUCKET}/", s3=seeded)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["key"] for line in lines] == sorted(KEYS)
    first = lines[0]
    assert first["url"] == f"s3://{BUCKET}/a-c.jpg" and first["size"] == 20 and first["last_modified"].endswith("Z")
    assert set(first) >= {"url", "key", "size", "etag", "last_modified"}
    assert result.stderr.strip().splitlines()[-1].startswith("ls: 5 objects, 150 bytes")


def test_filters_from_the_command_line(seeded: MotoS3) -> None:
    result = ls(f"s3://{BUCKET}/a", "--glob", "**/*.png", "--glob", "**/*.dcm", "--exclude", "a/z*", s3=seeded)
    assert [json.loads(line)["key"] for line in result.stdout.splitlines()] == ["a/b/x y.png"]
    result = ls(f"s3://{BUCKET}/", "--min-size", "30", "--max-size", "40", "--parallel", "4", s3=seeded)
    assert [json.loads(line)["key"] for line in result.stdout.splitlines()] == ["a/z.dcm", "big/clip.mp4"]


def test_a_local_folder(tmp_path: Path) -> None:
    for key in KEYS:
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_text("x")
    result = ls(f"file://{tmp_path}", "--modified-since", "2000-01-01")
    assert [json.loads(line)["key"] for line in result.stdout.splitlines()] == sorted(KEYS)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["bucket/no-scheme"], 2, "source='bucket/no-scheme' is invalid: use a URI like s3://bucket/prefix/"),
        ([f"s3://{BUCKET}/", "--glob", "[oops"], 2, "glob='[oops' is invalid"),
        ([f"s3://{BUCKET}/", "--modified-since", "yesterday"], 2, "--modified-since='yesterday' is invalid"),
        (["s3://no-such-bucket/"], 1, "cannot list s3://no-such-bucket/ (connection 'aws_default'): bucket"),
        ([f"s3://{BUCKET}/", "--conn-id", "aws_typo"], 1, "connection 'aws_typo' is not defined"),
        (["file:///no/such/dir"], 1, "/no/such/dir is not a folder on this machine"),
    ],
)
def test_errors_are_one_line_with_an_exit_code(seeded: MotoS3, args: list[str], code: int, message: str) -> None:
    result = ls(*args, s3=seeded)
    assert result.returncode == code
    assert result.stdout == ""
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("airflow-ingest: error: ") and message in last


def test_a_listing_that_fails_part_way_is_never_presented_as_complete(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(args: object, source: object) -> Iterator[object]:
        yield obj("a.png")
        yield obj("b.png")
        raise StorageError("cannot list s3://bucket/ (connection 'aws_default'): S3 answered InternalError")

    monkeypatch.setattr(commands, "listing_from", broken)
    code = cli.main(["ls", "s3://bucket/"])
    captured = capsys.readouterr()
    assert code == 1 and len(captured.out.splitlines()) == 2
    assert "ls: INCOMPLETE, stopped by the error below: 2 objects" in captured.err
    assert captured.err.strip().splitlines()[-1].startswith("airflow-ingest: error: cannot list")


def test_progress_lines_on_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    progress = cli.Progress("ls", stream=err, every=0.0)
    assert list(progress.track(obj(f"{i}.png") for i in range(3000)))
    progress.finish(True)
    lines = err.getvalue().splitlines()
    assert len(lines) >= 3 and lines[0].startswith("ls: 1,024 objects") and lines[-1].startswith("ls: 3,000 objects")
