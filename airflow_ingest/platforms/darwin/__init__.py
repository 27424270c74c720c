"""V7 Darwin: items registered by reference with ``register_existing`` (or ``register_existing_readonly``)."""

from __future__ import annotations

from typing import Any

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.plan import ManifestBuilder
from airflow_ingest.core.probed import Facts
from airflow_ingest.platforms.base import FormField, Platform, SendContext
from airflow_ingest.platforms.darwin.answers import darwin_retry
from airflow_ingest.platforms.darwin.documents import DarwinManifests
from airflow_ingest.platforms.darwin.target import (
    MAX_ITEMS_PER_REQUEST,
    DarwinTarget,
    ledger_destination,
    thumbnail_keys,
)


def build(target: DarwinTarget, facts: Facts | None) -> ManifestBuilder:
    return DarwinManifests(target, facts) if facts is not None else DarwinManifests(target)


def retry_manifest(ctx: SendContext, items: set[str]) -> str | None:
    """The batch's manifest holding only ``items`` (a retry manifest), or None when none are left."""
    return darwin_retry(ctx.text(), items)


CONNECTION_FORM: dict[str, Any] = {
    "ui-field-behaviour": {
        "hidden-fields": ["schema", "port", "login"],
        "relabeling": {"host": "API base URL", "password": "API key"},
        "placeholders": {"host": "https://darwin.v7labs.com", "password": "your V7 API key"},
    },
    "conn-fields": {
        "team_slug": {
            "label": "Team slug",
            "description": "The team the API key belongs to, as in your V7 URLs.",
            "schema": {"type": ["string", "null"]},
        },
        "requests_per_minute": {
            "label": "Requests per minute",
            "description": "Client-side pace per worker (V7 documents 100); 0 turns it off.",
            "schema": {"type": ["number", "null"], "minimum": 0, "default": 100},
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
    name="darwin",
    label="V7 Darwin",
    conn_type="darwin",
    conn_arg="darwin_conn_id",
    hook="airflow_ingest.platforms.darwin.hook:DarwinHook",
    operator="airflow_ingest.platforms.darwin.operator:DarwinRegisterOperator",
    doc_url="https://docs.v7labs.com/",
    connection_form=CONNECTION_FORM,
    links=("airflow_ingest.platforms.darwin.operator.DarwinDatasetLink",),
    target_model=DarwinTarget,
    # V7 documents 100 items per request (darwin-py sends 10) and no byte limit for registration by reference.
    limits=Limits(max_entries=MAX_ITEMS_PER_REQUEST, max_bytes=None),
    hard_max_entries=MAX_ITEMS_PER_REQUEST,
    target_keys=("dataset_slug",),
    destination=ledger_destination,
    thumbnail_keys=thumbnail_keys,
    build=build,
    sender="airflow_ingest.platforms.darwin.register:sender",
    retry="airflow_ingest.platforms.darwin:retry_manifest",
    form_fields=(
        FormField(
            "dataset_slug",
            "Darwin dataset slug",
            "The dataset's slug, as in its V7 URL.",
            "demo-dataset",
            in_target=True,
            schema={"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]*$"},
            param="dataset_slug",
        ),
        FormField(
            "storage_slug",
            "Darwin storage name",
            "The name of the external storage connection in V7's settings.",
            "demo-storage",
            in_target=True,
            schema={"type": "string", "minLength": 1},
            param="storage_slug",
        ),
    ),
)
