"""RedBrick AI: tasks created in a project from items lists that point at files in a storage method."""

from __future__ import annotations

from typing import Any

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.plan import ManifestBuilder
from airflow_ingest.core.probed import Facts
from airflow_ingest.platforms.base import CliOption, FormField, Platform, SendContext
from airflow_ingest.platforms.redbrick.answers import redbrick_retry
from airflow_ingest.platforms.redbrick.documents import TASKS_PER_BATCH, RedBrickManifests
from airflow_ingest.platforms.redbrick.target import PUBLIC_STORAGE, RedBrickTarget, builds_urls, ledger_destination


def build(target: RedBrickTarget, facts: Facts | None) -> ManifestBuilder:
    return RedBrickManifests(target)


def retry_manifest(ctx: SendContext, items: set[str]) -> str | None:
    """The batch's manifest holding only ``items`` (a retry manifest), or None when none are left."""
    return redbrick_retry(ctx.text(), items)


CONNECTION_FORM: dict[str, Any] = {
    "ui-field-behaviour": {
        "hidden-fields": ["schema", "port", "login"],
        "relabeling": {"host": "API host", "password": "API key"},
        "placeholders": {"host": "https://api.redbrickai.com", "password": "your 43-character API key"},
    },
    "conn-fields": {
        "org_id": {
            "label": "Organization id",
            "description": "The UUID in your RedBrick URL: app.redbrickai.com/<org_id>.",
            "schema": {"type": ["string", "null"]},
        },
        "project_id": {
            "label": "Default project id",
            "description": "Used when an operator names none: app.redbrickai.com/<org_id>/projects/<id>.",
            "schema": {"type": ["string", "null"]},
        },
        "timeout": {
            "label": "Timeout (seconds)",
            "description": "Seconds to wait for each API answer before retrying (the SDK uses 30).",
            "schema": {"type": ["integer", "null"], "minimum": 1, "default": 30},
        },
        "concurrency": {
            "label": "Parallel task creations",
            "description": "createDatapoint calls in flight per worker (the SDK uses up to 10).",
            "schema": {"type": ["integer", "null"], "minimum": 1, "maximum": 10, "default": 4},
        },
        "requests_per_minute": {
            "label": "Requests per minute",
            "description": "Client-side pace per worker; 0 turns it off (RedBrick documents no limit).",
            "schema": {"type": ["number", "null"], "minimum": 0, "default": 0},
        },
    },
}
"""The Airflow connection form (provider info's ``ui-field-behaviour`` and ``conn-fields``)."""


PLATFORM = Platform(
    name="redbrick",
    label="RedBrick AI",
    conn_type="redbrick",
    conn_arg="redbrick_conn_id",
    hook="airflow_ingest.platforms.redbrick.hook:RedBrickHook",
    operator="airflow_ingest.platforms.redbrick.operator:RedBrickRegisterOperator",
    doc_url="https://docs.redbrickai.com/",
    connection_form=CONNECTION_FORM,
    links=("airflow_ingest.platforms.redbrick.operator.RedBrickProjectLink",),
    target_model=RedBrickTarget,
    # The SDK validates 50 tasks at a time and drops the whole call if one chunk fails.
    limits=Limits(max_entries=TASKS_PER_BATCH, max_bytes=None),
    target_keys=("project_id",),
    destination_keys=("project_id",),
    destination=ledger_destination,
    builds_urls=builds_urls,
    build=build,
    sender="airflow_ingest.platforms.redbrick.register:sender",
    retry="airflow_ingest.platforms.redbrick:retry_manifest",
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
