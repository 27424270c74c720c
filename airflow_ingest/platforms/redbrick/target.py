"""The RedBrick AI target: the storage method that holds the files, and the items-list form."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from airflow_ingest.core.urls import UrlStyle

PUBLIC_STORAGE = "11111111-1111-1111-1111-111111111111"


DIRECT_UPLOAD = "22222222-2222-2222-2222-222222222222"


UUID_PATTERN = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RedBrickTarget(StrictModel):
    """Which storage method holds the files, and which items-list form to write."""

    storage_id: str = Field(description="The storage method's id from RedBrick's Storage tab.")
    form: Literal["series", "flat"] = "series"
    url_style: UrlStyle | None = None
    region: str | None = None
    account: str | None = None

    @field_validator("storage_id")
    @classmethod
    def _storage_id(cls, value: str) -> str:
        if not UUID_PATTERN.match(value):
            raise ValueError("use the storage method's UUID from RedBrick's Storage tab")
        if value == DIRECT_UPLOAD:
            raise ValueError("the RedBrick direct-upload storage reads local files; use an external storage method")
        return value

    @property
    def public(self) -> bool:
        return self.storage_id == PUBLIC_STORAGE


def ledger_destination(
    target: Mapping[str, Any], register: Mapping[str, Any], conn_id: str, extra: Callable[[], Mapping[str, Any]]
) -> tuple[str, str, str]:
    """The ledger's (account, where, storage): the organization (``extra.org_id``), the project (the register
    argument, else the connection's ``extra.project_id``) and the storage method."""
    values = extra()
    account = str(values.get("org_id") or conn_id)
    where = str(register.get("project_id") or values.get("project_id") or "")
    return account, where, str(target.get("storage_id") or "")


def builds_urls(target: Mapping[str, Any]) -> bool:
    """Only RedBrick's public storage takes URLs; an external storage method takes keys."""
    return target.get("storage_id") == PUBLIC_STORAGE
