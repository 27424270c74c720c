"""Label Studio (HumanSignal): tasks that reference cloud objects by URL, registered exactly once."""

from __future__ import annotations

import json
from typing import Any

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.plan import ManifestBuilder
from airflow_ingest.core.probed import Facts
from airflow_ingest.platforms.base import CliOption, FormField, Platform, SendContext
from airflow_ingest.platforms.labelstudio.documents import MARKER, TASKS_PER_IMPORT, LabelStudioManifests
from airflow_ingest.platforms.labelstudio.target import LabelStudioTarget, ledger_destination


def build(target: LabelStudioTarget, facts: Facts | None) -> ManifestBuilder:
    return LabelStudioManifests(target)


def retry_manifest(ctx: SendContext, items: set[str]) -> str | None:
    """The batch's tasks of the items in ``items`` (each task's ``meta`` names its item), or None if none."""
    tasks = [task for task in json.loads(ctx.text()) if task.get("meta", {}).get(MARKER, {}).get("item") in items]
    return json.dumps(tasks, ensure_ascii=False) if tasks else None


CONNECTION_FORM: dict[str, Any] = {
    "ui-field-behaviour": {
        "hidden-fields": ["schema", "port", "login"],
        "relabeling": {"host": "Server URL", "password": "API token"},
        "placeholders": {"host": "http://localhost:8080", "password": "a personal access token (or a legacy token)"},
    },
    "conn-fields": {
        "project_id": {
            "label": "Default project id",
            "description": "Used when an operator names none: the number in /projects/<id>/.",
            "schema": {"type": ["integer", "null"], "minimum": 1},
        },
        "token_type": {
            "label": "Token type",
            "description": "legacy or personal; empty tells them apart (a personal token is a JWT).",
            "schema": {"type": ["string", "null"], "enum": ["legacy", "personal", None]},
        },
        "timeout": {
            "label": "Timeout (seconds)",
            "description": "Seconds to wait for each API answer before retrying.",
            "schema": {"type": ["integer", "null"], "minimum": 1, "default": 60},
        },
    },
}
"""The Airflow connection form (provider info's ``ui-field-behaviour`` and ``conn-fields``)."""


PLATFORM = Platform(
    name="labelstudio",
    label="Label Studio",
    conn_type="labelstudio",
    conn_arg="labelstudio_conn_id",
    hook="airflow_ingest.platforms.labelstudio.hook:LabelStudioHook",
    operator="airflow_ingest.platforms.labelstudio.operator:LabelStudioRegisterOperator",
    target_model=LabelStudioTarget,
    # No documented limit per import; a thousand tasks keep a request (and its lookups) small.
    limits=Limits(max_entries=TASKS_PER_IMPORT, max_bytes=None),
    target_keys=("project_id",),
    destination_keys=("project_id",),
    destination=ledger_destination,
    build=build,
    sender="airflow_ingest.platforms.labelstudio.register:sender",
    retry="airflow_ingest.platforms.labelstudio:retry_manifest",
    doc_url="https://labelstud.io/guide/",
    connection_form=CONNECTION_FORM,
    links=("airflow_ingest.platforms.labelstudio.operator.LabelStudioProjectLink",),
    cli_options=(
        CliOption("--project-id", "project_id", "the project's id (default: the connection's extra.project_id)"),
    ),
    form_fields=(
        FormField(
            "project_id",
            "Label Studio project id",
            "The number in the project's URL (/projects/<id>/); empty: the connection's extra.project_id.",
            schema={"type": ["null", "integer"]},
            blank=True,
        ),
        FormField(
            "data_key",
            "Label Studio data key",
            "The labeling config's $name for the files (e.g. image); empty takes it from the config.",
            in_target=True,
            blank=True,
        ),
    ),
)
