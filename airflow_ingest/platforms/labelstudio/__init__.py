"""Label Studio (HumanSignal): tasks that reference cloud objects by URL, registered exactly once."""

from __future__ import annotations

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.plan import ManifestBuilder
from airflow_ingest.core.probed import Facts
from airflow_ingest.platforms.base import CliOption, FormField, Platform
from airflow_ingest.platforms.labelstudio.documents import TASKS_PER_IMPORT, LabelStudioManifests
from airflow_ingest.platforms.labelstudio.target import LabelStudioTarget


def build(target: LabelStudioTarget, facts: Facts | None) -> ManifestBuilder:
    return LabelStudioManifests(target)


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
    build=build,
    sender="airflow_ingest.platforms.labelstudio.register:sender",
    cli_options=(
        CliOption("--project-id", "project_id", "the project's id (default: the connection's extra.project_id)"),
    ),
    form_fields=(
        FormField(
            "project_id",
            "Label Studio project id",
            "The number in the project's URL (/projects/<id>/); empty uses the connection's extra.project_id.",
        ),
        FormField(
            "data_key",
            "Label Studio data key",
            "The labeling config's $name for the files (e.g. image); empty takes it from the labeling config.",
            in_target=True,
        ),
    ),
)
