"""V7 Darwin: items registered by reference with ``register_existing`` (or ``register_existing_readonly``)."""

from __future__ import annotations

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.plan import ManifestBuilder
from airflow_ingest.core.probed import Facts
from airflow_ingest.platforms.base import FormField, Platform
from airflow_ingest.platforms.darwin.documents import DarwinManifests
from airflow_ingest.platforms.darwin.target import MAX_ITEMS_PER_REQUEST, DarwinTarget


def build(target: DarwinTarget, facts: Facts | None) -> ManifestBuilder:
    return DarwinManifests(target, facts) if facts is not None else DarwinManifests(target)


PLATFORM = Platform(
    name="darwin",
    label="V7 Darwin",
    conn_type="darwin",
    conn_arg="darwin_conn_id",
    hook="airflow_ingest.platforms.darwin.hook:DarwinHook",
    operator="airflow_ingest.platforms.darwin.operator:DarwinRegisterOperator",
    target_model=DarwinTarget,
    # V7 documents 100 items per request (darwin-py sends 10) and no byte limit for registration by reference.
    limits=Limits(max_entries=MAX_ITEMS_PER_REQUEST, max_bytes=None),
    hard_max_entries=MAX_ITEMS_PER_REQUEST,
    target_keys=("dataset_slug",),
    build=build,
    sender="airflow_ingest.platforms.darwin.register:sender",
    retry="airflow_ingest.platforms.darwin.answers:retry_manifest",
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
