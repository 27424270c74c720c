"""RedBrick AI: tasks created in a project from items lists that point at files in a storage method."""

from __future__ import annotations

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.plan import ManifestBuilder
from airflow_ingest.core.probed import Facts
from airflow_ingest.platforms.base import CliOption, FormField, Platform
from airflow_ingest.platforms.redbrick.documents import TASKS_PER_BATCH, RedBrickManifests
from airflow_ingest.platforms.redbrick.target import PUBLIC_STORAGE, RedBrickTarget


def build(target: RedBrickTarget, facts: Facts | None) -> ManifestBuilder:
    return RedBrickManifests(target)


PLATFORM = Platform(
    name="redbrick",
    label="RedBrick AI",
    conn_type="redbrick",
    conn_arg="redbrick_conn_id",
    hook="airflow_ingest.platforms.redbrick.hook:RedBrickHook",
    operator="airflow_ingest.platforms.redbrick.operator:RedBrickRegisterOperator",
    target_model=RedBrickTarget,
    # The SDK validates 50 tasks at a time and drops the whole call if one chunk fails.
    limits=Limits(max_entries=TASKS_PER_BATCH, max_bytes=None),
    target_keys=("project_id",),
    destination_keys=("project_id",),
    build=build,
    sender="airflow_ingest.platforms.redbrick.register:sender",
    retry="airflow_ingest.platforms.redbrick.answers:retry_manifest",
    form_fields=(
        FormField("project_id", "RedBrick project", "The project's id; empty uses the connection's extra.project_id."),
        FormField(
            "storage_id",
            "RedBrick storage method",
            "The storage method's UUID from RedBrick's Storage tab (1111... is public URLs).",
            PUBLIC_STORAGE,
            in_target=True,
            schema={
                "type": "string",
                "pattern": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
            },
        ),
    ),
    cli_options=(
        CliOption("--project-id", "project_id", "the project's id (default: the connection's extra.project_id)"),
    ),
)
