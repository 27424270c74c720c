"""The platform registry: every platform is found through it, and adding one is one package and one entry.

A made-up fifth platform, Quill (``tests/quill``), is registered by patching ``PLATFORM_MODULES`` only; the plan,
the generic register operator, the task group, the CLI flags and the asset name then all work for it.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from airflow_ingest import platforms
from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.plan import make_plan, path_opener
from airflow_ingest.platforms import (
    add_cli_options,
    cli_values,
    get_platform,
    limits_for,
    manifest_builder,
    parse_target,
    platform_names,
)
from airflow_ingest.platforms.base import SendContext

WHEN = datetime(2026, 11, 1, tzinfo=timezone.utc)


@pytest.fixture
def quill(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Quill registered (one entry), with a connection whose inbox is a file under ``tmp_path``."""
    monkeypatch.setitem(platforms.PLATFORM_MODULES, "quill", "tests.quill")
    inbox = tmp_path / "inbox.jsonl"
    monkeypatch.setenv("AIRFLOW_CONN_QUILL_DEFAULT", json.dumps({"conn_type": "quill", "extra": {"inbox": str(inbox)}}))
    return inbox


def objects(count: int) -> list[StoredObject]:
    return [StoredObject(f"s3://b/p/{n:02d}.jpg", "b", f"p/{n:02d}.jpg", 10, "e", WHEN) for n in range(count)]


def test_the_platforms_are_declared_with_their_operators_and_hooks() -> None:
    assert platform_names() == ("darwin", "encord", "redbrick", "labelstudio")
    for name in platform_names():
        platform = get_platform(name)
        assert platform.name == name and platform.default_conn_id == f"{name}_default"
        assert platform.operator_class().platform_name == name
        assert platform.hook_class().conn_type == platform.conn_type


def test_an_unknown_platform_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="use one of darwin, encord, redbrick, labelstudio"):
        get_platform("labelbox")


def test_limits_hold_the_documented_hard_limit() -> None:
    assert limits_for("encord").max_entries == 10_000
    assert limits_for("darwin", max_entries=50).max_entries == 50
    with pytest.raises(ConfigError, match="darwin accepts at most 100 entries per batch"):
        limits_for("darwin", max_entries=101)
    with pytest.raises(ConfigError, match="target"):
        parse_target("darwin", {"dataset_slug": "Not A Slug"})


def test_a_fourth_platform_plans_and_registers_through_the_generic_path(quill: Path, tmp_path: Path) -> None:
    assert "quill" in platform_names()
    run = tmp_path / "run"
    run.mkdir()
    target = {"shelf": "poems"}
    plan = make_plan(objects(7), manifest_builder("quill", target), limits_for("quill"), path_opener(run))
    assert [b.items for b in plan.batches] == [3, 3, 1] and plan.target == target
    with pytest.raises(ConfigError, match="quill accepts at most 10"):
        limits_for("quill", max_entries=11)

    from tests.quill.operator import QuillRegisterOperator

    operator = QuillRegisterOperator(task_id="register", run_dir=str(run), batches=[1, 2], drawer="left")
    first = operator.execute(context={})  # type: ignore[arg-type]
    assert first["registered"] == 6
    assert operator.execute(context={}) == first  # type: ignore[arg-type]  # a retry resumes: nothing is sent again
    assert [json.loads(line)["drawer"] for line in quill.read_text().splitlines()] == ["left"] * 6

    send = get_platform("quill").sender_for("quill_default", target, {"drawer": "right"})  # what the CLI does
    again = [send(SendContext(run, plan, number)) for number in (2, 3)]
    assert [o.outcome.value for o in again[0]] == ["duplicate"] * 3
    assert [o.outcome.value for o in again[1]] == ["registered"]


def test_a_fourth_platform_gets_its_task_group_asset_and_cli_flags(quill: Path) -> None:
    from airflow.sdk import DAG

    from airflow_ingest.task_groups import ingest_task_group, platform_asset

    with DAG(dag_id="quill_ingest", schedule=None):
        group = ingest_task_group(
            "quill",
            source="s3://b/p",
            platform="quill",
            target={"shelf": "poems"},
            platform_conn_id="quill_default",
            register_kwargs={"drawer": "left"},
        )
    register = group.children["quill.register"]
    assert register.operator_class.__name__ == "QuillRegisterOperator"  # type: ignore[attr-defined]
    assert group.children["quill.commit"].destination == {  # type: ignore[attr-defined]
        "drawer": "left",
        "platform_conn_id": "quill_default",
    }
    assert platform_asset("quill", {"shelf": "poems"}).uri == "x-airflow-ingest://quill/poems"

    parser = argparse.ArgumentParser()
    add_cli_options(parser)
    args = parser.parse_args(["--drawer", "left", "--folder", "f"])
    assert cli_values("quill", args) == {"drawer": "left"}
    assert cli_values("encord", args)["folder_uuid"] == "f"
