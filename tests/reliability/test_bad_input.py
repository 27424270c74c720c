"""Bad input a user will meet: each case a one-line error naming what to fix, a usage or failure exit code,
and nothing half-written (no data on stdout, no plan.json, no ledger). The CLI runs in-process (``cli.main``)
against moto, as fast as a unit test; the README's troubleshooting table lists these cases with the others.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from airflow_ingest import cli
from tests.harness import FakeDarwin, MotoS3

BUCKET = "bad-input"


@pytest.fixture(scope="module")
def seeded(s3: MotoS3) -> MotoS3:
    s3.seed(BUCKET, [("a/x.png", 10), ("a/y.png", 20), ("big/clip.mp4", 5_000), ("zero/", 0), ("zero/empty.png", 0)])
    return s3


@pytest.fixture
def run(seeded: MotoS3, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", seeded.conn())

    def main(*argv: str) -> tuple[int, str, str]:
        level = os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL")
        code = cli.main(list(argv))
        # The CLI quiets Airflow for its own command only: an in-process caller's environment is left as it was
        # (a leaked WARNING once silenced every Airflow stack the test run started afterwards).
        assert os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL") == level
        out, err = capsys.readouterr()
        return code, out, err

    return main


def last_line(err: str) -> str:
    return err.strip().splitlines()[-1] if err.strip() else ""


SOURCE = f"s3://{BUCKET}/"

LS_CASES = [
    (["s3://"], 2, "source='s3://' is invalid"),
    (["s3://Bad_Bucket/"], 2, "source='s3://Bad_Bucket/' is invalid"),
    (["ftp://host/dir"], 2, "source='ftp://host/dir' is invalid"),
    (["file://relative/dir"], 2, "file://relative/dir"),
    ([SOURCE, "--min-size", "-1"], 2, "min_size=-1"),
    ([SOURCE, "--min-size", "10", "--max-size", "5"], 2, "max_size=5"),
    ([SOURCE, "--modified-since", "2026-01-01T00:00:00"], 2, "timezone"),
    ([SOURCE, "--modified-since", "2026-02-01T00:00:00Z", "--modified-before", "2026-01-01T00:00:00Z"], 2, "before"),
    ([SOURCE, "--parallel", "0"], 2, "parallel=0"),
    ([SOURCE, "--glob", "a/[x"], 2, "glob='a/[x' is invalid"),
]


@pytest.mark.parametrize(("args", "code", "message"), LS_CASES, ids=[" ".join(c[0])[:40] for c in LS_CASES])
def test_listing_input(run, args: list[str], code: int, message: str) -> None:  # type: ignore[no-untyped-def]
    got, out, err = run("ls", *args)
    assert (got, out) == (code, ""), err
    assert last_line(err).startswith("airflow-ingest: error: ") and message in last_line(err), err


PLAN_CASES = [
    (["--platform", "darwin", "--storage", "s"], "dataset"),
    (["--platform", "darwin", "--dataset", "d", "--storage", "s", "--max-entries", "-3"], "max_entries=-3"),
    (["--platform", "darwin", "--dataset", "d", "--storage", "s", "--max-bytes", "0"], "max_bytes=0"),
    (["--platform", "darwin", "--dataset", "d", "--storage", "s", "--fps", "-1"], "fps"),
    (["--platform", "redbrick", "--storage-id", "not-a-uuid"], "storage_id"),
    (["--platform", "encord", "--region", "moon-1"], "region"),
]


@pytest.mark.parametrize("args_message", PLAN_CASES, ids=[" ".join(c[0])[:40] for c in PLAN_CASES])
def test_plan_input(run, tmp_path: Path, args_message: tuple[list[str], str]) -> None:  # type: ignore[no-untyped-def]
    args, message = args_message
    got, out, err = run("plan", SOURCE, *args, "--out", str(tmp_path / "out"))
    assert got == 2 and out == "", err
    assert message in last_line(err) and last_line(err).startswith("airflow-ingest: error: "), err
    assert not (tmp_path / "out" / "plan.json").exists()


def test_an_unwritable_output_folder_is_named(run) -> None:  # type: ignore[no-untyped-def]
    got, out, err = run("plan", SOURCE, "--platform", "darwin", "--dataset", "d", "--storage", "s", "--out", "/proc/x")
    assert got != 0 and out == "" and "/proc/x" in last_line(err), err


def test_an_empty_prefix_plans_nothing_and_says_so(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    got, out, err = run(
        "plan", f"s3://{BUCKET}/nothing-here/", "--platform", "darwin", "--dataset", "d", "--storage", "s",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert got == 0 and json.loads(out)["objects"] == 0, err
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert (plan["objects"], plan["items"], plan["batches"]) == (0, 0, [])


def test_one_object_over_the_byte_limit_gets_a_batch_of_its_own_flagged(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    got, _, err = run(
        "plan", SOURCE, "--platform", "darwin", "--dataset", "d", "--storage", "s", "--max-bytes", "1000",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert got == 0, err
    batches = json.loads((tmp_path / "plan.json").read_text())["batches"]
    assert [(b["items"], b["oversize"]) for b in batches] == [(2, False), (1, True), (1, False)]
    index = [json.loads(line)["item"] for line in (tmp_path / "items.jsonl").read_text().splitlines()]
    assert "/zero/empty.png" in index and not any(item.endswith("zero/") for item in index)  # a marker is no item


def test_a_state_folder_that_is_not_writable_fails_before_anything_is_sent(
    run, darwin: FakeDarwin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AIRFLOW_CONN_DARWIN_STATE", darwin.conn())
    got, out, err = run(
        "sync", SOURCE, "--platform", "darwin", "--platform-conn-id", "darwin_state", "--dataset", "demo-dataset",
        "--storage", "demo-storage", "--state", "/proc/state", "--runs", str(tmp_path),
    )  # fmt: skip
    assert got != 0 and out == "" and "/proc/state" in last_line(err), err
    assert darwin.state()["requests"] == []  # refused before the first registration, not after the last


def test_an_unknown_platform_connection_is_named(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    got, out, err = run(
        "sync", SOURCE, "--platform", "darwin", "--platform-conn-id", "darwin_typo", "--dataset", "d",
        "--storage", "s", "--state", str(tmp_path / "state"), "--runs", str(tmp_path / "runs"),
    )  # fmt: skip
    assert got != 0 and out == "" and "darwin_typo" in last_line(err), err
    assert not (tmp_path / "state").exists() or not any((tmp_path / "state").rglob("HEAD.json"))


def test_a_local_file_name_that_is_not_utf8_is_named_not_crashed(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "good.png").write_bytes(b"x")
    os.close(os.open(os.fsencode(str(tmp_path)) + b"/bad\xff.png", os.O_CREAT | os.O_WRONLY, 0o600))
    got, out, err = run("ls", f"file://{tmp_path}")
    assert (got, out) == (1, ""), (out, err)
    assert "b'bad\\xff.png'" in last_line(err) and "is not UTF-8; rename it" in last_line(err), err


def test_client_metadata_over_encords_10_mb_is_refused_before_any_spec_is_written() -> None:
    from pydantic import ValidationError

    from airflow_ingest.platforms.encord.target import EncordTarget

    with pytest.raises(ValidationError, match="over Encord's 10 MB limit"):
        EncordTarget(client_metadata={"notes": "x" * 10_500_000})


def test_an_unknown_layout_names_the_choices() -> None:
    from airflow_ingest.core.errors import ConfigError
    from airflow_ingest.core.items import parse_layout

    with pytest.raises(ConfigError, match=r"layout='series' is invalid: use one of file, folder, study"):
        parse_layout("series")


@pytest.mark.parametrize("value", [0, -1, 5000, "many"])
def test_register_tasks_must_fit_max_map_length(value: object) -> None:
    from airflow_ingest.core.errors import ConfigError
    from airflow_ingest.operators.planning import register_width

    with pytest.raises(ConfigError, match="register_tasks="):
        register_width(value)  # type: ignore[arg-type]
    assert register_width(None) == 16 and register_width("8") == 8


def test_a_tampered_ledger_is_refused_with_the_repair_command_that_then_works(
    run, darwin: FakeDarwin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AIRFLOW_CONN_DARWIN_LEDGER", darwin.conn())
    state = tmp_path / "state"
    sync = ["sync", f"s3://{BUCKET}/a/", "--platform", "darwin", "--platform-conn-id", "darwin_ledger",
            "--dataset", "demo-dataset", "--storage", "demo-storage", "--state", str(state),
            "--runs", str(tmp_path)]  # fmt: skip
    # two commits that add something: two ledger files (a commit with nothing new writes none)
    assert run(*sync, "--glob", "**/x.png")[0] == 0 and run(*sync)[0] == 0
    (head_path,) = state.rglob("HEAD.json")
    current = head_path.parent / json.loads(head_path.read_text())["ledger"]
    current.write_bytes(current.read_bytes()[:-3] + b"xyz")  # altered after its commit

    got, out, err = run(*sync)
    assert (got, out) == (1, "") and "does not match its checksum" in last_line(err), err
    repair = last_line(err).split("`")[1].split()  # the command the error names, as a user would copy it
    assert repair[:3] == ["airflow-ingest", "ledger", "repair"]

    got, out, err = run(*repair[1:])
    assert got == 0, err
    result = json.loads(out)
    assert result["adopted"] != current.name and result["skipped"][0]["ledger"] == current.name
    got, out, err = run(*sync)
    summary = json.loads(out)
    assert got == 0 and (summary["unchanged"], summary["new"]) == (1, 1), err  # the intact file held x.png
    assert summary["duplicate"] == 1  # y.png, which only the altered file held, is answered as already there
    assert len(darwin.state()["registered"]) == 2  # nothing was registered twice


HOSTILE_KEYS = ["../../escape.png", "a/../../../etc/passwd.png", "/abs/root.png", "..", "a/./b/../../../c.png"]


def test_hostile_object_keys_never_become_paths_outside_the_run(tmp_path: Path) -> None:
    """S3 keys may hold ``..`` and leading slashes: the plan writes only numbered files inside its folder."""
    from datetime import datetime, timezone

    from airflow_ingest.core.batching import Limits
    from airflow_ingest.core.objects import StoredObject
    from airflow_ingest.core.plan import make_plan, path_opener
    from airflow_ingest.platforms.darwin.documents import DarwinManifests
    from airflow_ingest.platforms.darwin.target import DarwinTarget

    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    objects = [StoredObject(f"s3://b/{k}", "b", k, 1, "e", now) for k in sorted(HOSTILE_KEYS)]
    run = tmp_path / "workspace" / "run"
    make_plan(
        objects,
        DarwinManifests(DarwinTarget(dataset_slug="d", storage_slug="s")),
        Limits(max_entries=2),
        path_opener(run),
    )
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert all(p.startswith("workspace/run/") for p in written), written
    assert not any(".." in p for p in written), written


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_a_local_store_refuses_keys_that_climb_out_of_its_folder(tmp_path: Path, key: str) -> None:
    from airflow_ingest.storage.base import ReadFailure
    from airflow_ingest.storage.local import LocalStorage

    (tmp_path / "root").mkdir()
    (tmp_path / "escape.png").write_bytes(b"secret")
    with pytest.raises(ReadFailure, match="leads outside"):
        LocalStorage().read(str(tmp_path / "root"), key, 0, 10)
