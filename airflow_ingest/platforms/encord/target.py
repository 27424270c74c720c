"""The Encord target: how a run's specs are written (format, URL form, region) and Encord's documented limits."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from airflow_ingest.core.urls import Linker, UrlStyle

MAX_ENTRIES_PER_FILE = 10_000
"""Encord: "up to 10,000 entries in the JSON file" (and in the CSV file)."""


RECOMMENDED_BATCH_BYTES = 2_000_000_000
"""Encord: "uploading files in batches not exceeding 2GB, to ensure upload does not exceed 3 hours"."""


MAX_DOCUMENT_BYTES = 100_000_000
"""Encord's best practices: "Maximum JSON file size: 100 MB" (the CSV spec is held to the same)."""


MAX_CLIENT_METADATA_BYTES = 10 * 1024 * 1024
"""Encord: "We enforce a 10MB limit on the client metadata per data item"."""


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EncordTarget(StrictModel):
    """How to write Encord documents for a run."""

    format: Literal["json", "csv"] = "json"
    skip_duplicate_urls: bool = Field(default=True, description="Make re-runs idempotent (JSON only).")
    create_video: bool = Field(default=False, description="Image folders become image sequences, not groups.")
    url_style: UrlStyle | None = None
    region: str | None = Field(
        default=None,
        pattern=r"^[a-z]{2}(-[a-z]+)+-\d+$",
        description="S3 region for virtual-hosted and path-style URLs, e.g. eu-west-2.",
    )
    account: str | None = Field(default=None, description="Azure storage account.")
    access_point_arn: str | None = Field(default=None, description="S3 Multi-Region Access Point ARN.")
    client_metadata: dict[str, Any] | None = Field(default=None, description="clientMetadata on every entry.")

    @field_validator("client_metadata")
    @classmethod
    def _fits(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(json.dumps(value, ensure_ascii=False).encode()) > MAX_CLIENT_METADATA_BYTES:
            raise ValueError("clientMetadata is over Encord's 10 MB limit per item")
        return value

    @property
    def linker(self) -> Linker:
        return Linker(self.url_style, self.region, self.account, self.access_point_arn)


def ledger_destination(
    target: Mapping[str, Any], register: Mapping[str, Any], conn_id: str, extra: Callable[[], Mapping[str, Any]]
) -> tuple[str, str, str]:
    """The ledger's (account, where, storage): Encord's keys name no account, so the connection id; the folder (or
    dataset) and the integration are register arguments."""
    where = str(register.get("folder_uuid") or register.get("dataset_hash") or "")
    return conn_id, where, str(register.get("integration_id") or "")


def builds_urls(target: Mapping[str, Any]) -> bool:
    """Encord's specs always name objects by URL (so the plan needs the S3 region or the Azure account)."""
    return True
