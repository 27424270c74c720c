"""Per-platform choices the plan needs: how to validate a target, build its documents, and the default limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.darwin import MAX_ITEMS_PER_REQUEST, DarwinManifests, DarwinTarget
from airflow_ingest.core.errors import ConfigError, validation_message
from airflow_ingest.core.plan import ManifestBuilder

PLATFORMS = ("darwin",)

DEFAULT_LIMITS: dict[str, Limits] = {
    # V7 documents 100 items per request (darwin-py sends 10) and no byte limit for registration by reference.
    "darwin": Limits(max_entries=MAX_ITEMS_PER_REQUEST, max_bytes=None),
}


def manifest_builder(platform: str, target: Mapping[str, Any]) -> ManifestBuilder:
    """The platform's document builder for ``target``, or an error naming the bad field."""
    if platform != "darwin":
        raise ConfigError("platform", platform, f"use one of {', '.join(PLATFORMS)}")
    try:
        return DarwinManifests(DarwinTarget.model_validate(dict(target)))
    except ValidationError as error:
        raise ConfigError("target", dict(target), validation_message("target", error)) from None


def limits_for(platform: str, max_entries: int | None = None, max_bytes: int | None = None) -> Limits:
    """The platform's default limits with any override applied; a Darwin request never exceeds 100 items."""
    default = DEFAULT_LIMITS.get(platform)
    if default is None:
        raise ConfigError("platform", platform, f"use one of {', '.join(PLATFORMS)}")
    limits = Limits(
        max_entries=default.max_entries if max_entries is None else max_entries,
        max_bytes=default.max_bytes if max_bytes is None else max_bytes,
    )
    if platform == "darwin" and limits.max_entries > MAX_ITEMS_PER_REQUEST:
        raise ConfigError("max_entries", max_entries, f"V7 accepts at most {MAX_ITEMS_PER_REQUEST} items per request")
    return limits
