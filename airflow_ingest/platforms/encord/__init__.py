"""Encord: files registered by reference through upload jobs that read a JSON (or, in the UI, CSV) spec."""

from __future__ import annotations

from typing import Any

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.plan import ManifestBuilder
from airflow_ingest.core.probed import Facts
from airflow_ingest.platforms.base import CliOption, FormField, Platform, SendContext
from airflow_ingest.platforms.encord.answers import encord_retry
from airflow_ingest.platforms.encord.documents import EncordManifests
from airflow_ingest.platforms.encord.target import (
    MAX_DOCUMENT_BYTES,
    MAX_ENTRIES_PER_FILE,
    RECOMMENDED_BATCH_BYTES,
    EncordTarget,
    builds_urls,
    ledger_destination,
)


def build(target: EncordTarget, facts: Facts | None) -> ManifestBuilder:
    if facts is not None and target.format == "csv":
        raise ConfigError("format", "csv", "Encord's CSV spec has no imageMetadata/videoMetadata; use json")
    return EncordManifests(target, facts)


def retry_manifest(ctx: SendContext, items: set[str]) -> str | None:
    """The batch's manifest holding only ``items`` (a retry manifest), or None when none are left."""
    if ctx.batch.path.endswith(".csv"):
        return None  # Encord's CSV specs are for its web UI: the report lists their items
    linker = EncordTarget.model_validate(ctx.plan.target).linker
    return encord_retry(ctx.text(), items, ctx.index(), linker)


CONNECTION_FORM: dict[str, Any] = {
    "ui-field-behaviour": {
        "hidden-fields": ["schema", "port", "login"],
        "relabeling": {"host": "API domain", "password": "Ed25519 private key (OpenSSH)"},
        "placeholders": {
            "host": "https://api.encord.com (US: https://api.us.encord.com)",
            "password": "-----BEGIN OPENSSH PRIVATE KEY----- ...",
        },
    },
    "conn-fields": {
        "bearer_token": {
            "label": "Bearer token",
            "description": "Instead of a private key: an Encord bearer token.",
            "schema": {"type": ["string", "null"], "format": "password"},
        },
        "timeout": {
            "label": "Timeout (seconds)",
            "description": "Read timeout of each API request (the SDK's default is 180).",
            "schema": {"type": ["integer", "null"], "minimum": 10, "default": 180},
        },
        "long_poll_seconds": {
            "label": "Long poll (seconds)",
            "description": "How long one job-status request may wait on Encord's side.",
            "schema": {"type": ["integer", "null"], "minimum": 0, "maximum": 60, "default": 30},
        },
    },
}
"""The Airflow connection form (provider info's ``ui-field-behaviour`` and ``conn-fields``)."""


PLATFORM = Platform(
    name="encord",
    label="Encord",
    conn_type="encord",
    conn_arg="encord_conn_id",
    hook="airflow_ingest.platforms.encord.hook:EncordHook",
    operator="airflow_ingest.platforms.encord.operator:EncordRegisterOperator",
    doc_url="https://docs.encord.com/",
    connection_form=CONNECTION_FORM,
    links=("airflow_ingest.platforms.encord.operator.EncordDestinationLink",),
    triggers=("airflow_ingest.platforms.encord.trigger",),
    target_model=EncordTarget,
    # 10,000 entries and 100 MB per spec file; batches of at most 2 GB keep an upload job under 3 hours.
    limits=Limits(MAX_ENTRIES_PER_FILE, RECOMMENDED_BATCH_BYTES, MAX_DOCUMENT_BYTES),
    hard_max_entries=MAX_ENTRIES_PER_FILE,
    target_keys=("folder_uuid", "dataset_hash"),
    destination_keys=("folder_uuid", "dataset_hash", "integration_id"),
    destination=ledger_destination,
    builds_urls=builds_urls,
    build=build,
    sender="airflow_ingest.platforms.encord.register:sender",
    retry="airflow_ingest.platforms.encord:retry_manifest",
    cli_options=(
        CliOption("--folder", "folder_uuid", "the storage folder's UUID (or give --dataset-hash)"),
        CliOption("--dataset-hash", "dataset_hash", "the dataset's hash (or give --folder)"),
        CliOption("--integration", "integration_id", "the cloud integration's id that can read the bucket"),
        CliOption("--ignore-errors", "ignore_errors", "let a job finish past per-file errors", True, bool),
    ),
    form_fields=(
        FormField("folder_uuid", "Encord storage folder", "The folder's UUID (Index). Give this or a dataset."),
        FormField("dataset_hash", "Encord dataset", "The dataset's hash (Annotate). Give this or a folder."),
        FormField("integration_id", "Encord integration", "The cloud integration's id that can read the bucket."),
        FormField(
            "url_style",
            "Object URL form",
            "How the spec spells object URLs; empty takes the cloud's default.",
            in_target=True,
            schema={
                "enum": [None, "virtual-hosted", "path", "protocol", "https"],
                "values_display": {
                    None: "the cloud's default",
                    "virtual-hosted": "https://bucket.s3.region.amazonaws.com/key",
                    "path": "https://s3.region.amazonaws.com/bucket/key",
                    "protocol": "s3:// or gs://",
                    "https": "https:// (GCS, Azure)",
                },
            },
        ),
    ),
)
