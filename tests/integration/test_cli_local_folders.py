"""The CLI over a ``file://`` source and a reused ``--out``: the tool never lists its own files, never keeps an
earlier plan's batches, and one unreadable entry (a dangling symlink) does not stop a listing."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from airflow_ingest import cli

TARGET = ["--platform", "redbrick", "--storage-id", "3fa85f64-5717-4562-b3fc-2c963f66afa6"]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    def main(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return main


def images(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / f"{n:03d}.png").write_bytes(b"x")


def test_a_smaller_plan_in_a_reused_out_folder_leaves_no_stale_batches(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, out = tmp_path / "data", tmp_path / "out"
    images(data, 120)
    (out).mkdir()
    (out / "notes.txt").write_text("mine")
    got, _, _ = run("plan", f"file://{data}", *TARGET, "--max-entries", "10", "--out", str(out))
    assert got == 0 and len(list(out.glob("batch-*.json"))) == 12
    for extra in range(100, 120):
        (data / f"{extra:03d}.png").unlink()
    got, _, err = run("plan", f"file://{data}", *TARGET, "--max-entries", "10", "--out", str(out))
    assert got == 0 and "removed 15 files of an earlier plan" in err, err  # 12 batches, plan.json, 2 indexes
    assert sorted(p.name for p in out.glob("batch-*.json")) == [f"batch-{n:05d}.json" for n in range(1, 11)]
    assert json.loads((out / "plan.json").read_text())["objects"] == 100
    assert (out / "notes.txt").read_text() == "mine"  # what the plan never writes is left alone


def test_out_inside_a_file_source_is_not_listed_as_new_objects(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    images(data, 3)
    images(data / "plan", 2)  # as if an earlier plan had left images there: still the tool's own folder
    got, out, err = run("plan", f"file://{data}", *TARGET, "--out", str(data / "plan"))
    assert got == 0 and "--out" in err and "is inside the source; its files are not listed" in err, err
    assert json.loads(out)["objects"] == 3
    got, again, _ = run("plan", f"file://{data}", *TARGET, "--out", str(data / "plan"))
    assert got == 0 and json.loads(again)["objects"] == 3  # its own plan.json and batches stay out too


def test_state_and_runs_inside_a_file_source_are_not_listed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    prefixes = cli.own_folders(
        cli.build_parser().parse_args(
            [
                "sync",
                f"file://{data}",
                *TARGET,
                "--platform-conn-id",
                "rb",
                "--state",
                str(data / "state"),
                "--runs",
                str(tmp_path / "runs"),
            ]
        ),
        cli.parse_source(f"file://{data}"),
    )
    assert prefixes == ("state/",)


def test_out_equal_to_the_source_folder_is_refused(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    images(tmp_path, 2)
    got, out, err = run("plan", f"file://{tmp_path}", *TARGET, "--out", str(tmp_path))
    assert (got, out) == (2, "") and "--out=" in err and "use a folder outside it" in err, err


def test_a_dangling_symlink_is_skipped_with_a_reason(run, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    images(data, 2)
    os.symlink(data / "gone.png", data / "link.png")
    with caplog.at_level(logging.WARNING):
        got, out, err = run("ls", f"file://{data}")
    assert got == 0, err
    assert [json.loads(line)["key"] for line in out.splitlines()] == ["000.png", "001.png"]
    warned = caplog.text + err
    assert "link.png" in warned and "cannot be read" in warned and "dangling symlink" in warned
