"""Quill, a made-up fifth platform: the whole of what adding a platform takes, as the registry test uses it.

One package (this one) and one registry entry (the test patches ``PLATFORM_MODULES``). Its documents are a JSON
list of ``{"id", "urls"}``; its "API" is a JSON-lines inbox file named by the connection (no network), so the
test reads back what was registered.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field

from airflow_ingest.core.batching import Batch, Limits
from airflow_ingest.core.items import Item
from airflow_ingest.core.plan import ManifestBuilder
from airflow_ingest.core.probed import Facts
from airflow_ingest.platforms.base import CliOption, FormField, Platform


class QuillTarget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    shelf: str = Field(min_length=1, description="Where the items go.")


class QuillManifests:
    platform = "quill"
    suffix = ".json"

    def __init__(self, target: QuillTarget) -> None:
        self.target = target

    def refuse(self, item: Item) -> str | None:
        return None

    def entries_of(self, item: Item) -> int:
        return 1

    def render(self, batch: Batch) -> str:
        return json.dumps([{"id": item.id, "urls": [o.url for o in item.objects]} for item in batch.items])


def build(target: QuillTarget, facts: Facts | None) -> ManifestBuilder:
    return QuillManifests(target)


PLATFORM = Platform(
    name="quill",
    label="Quill",
    conn_type="quill",
    conn_arg="quill_conn_id",
    hook="tests.quill.hook:QuillHook",
    operator="tests.quill.operator:QuillRegisterOperator",
    target_model=QuillTarget,
    limits=Limits(max_entries=3),
    hard_max_entries=10,
    target_keys=("shelf",),
    destination_keys=("drawer",),
    build=build,
    sender="tests.quill.register:sender",
    retry="tests.quill.register:retry_manifest",
    cli_options=(CliOption("--drawer", "drawer", "the drawer on the shelf"),),
    form_fields=(FormField("drawer", "Quill drawer", "The drawer on the shelf."),),
)
