"""Per-platform choices the plan needs: how to validate a target, build its documents, and the default limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.darwin import MAX_ITEMS_PER_REQUEST, DarwinManifests, DarwinTarget
from airflow_ingest.core.encord import MAX_ENTRIES_PER_FILE, RECOMMENDED_BATCH_BYTES, EncordManifests, EncordTarget
from airflow_ingest.core.errors import ConfigError, validation_message
from airflow_ingest.core.plan import ManifestBuilder
from airflow_ingest.core.redbrick import TASKS_PER_BATCH, RedBrickManifests, RedBrickTarget

PLATFORMS = ("darwin", "encord", "redbrick")

TARGETS: dict[str, type[BaseModel]] = {"darwin": DarwinTarget, "encord": EncordTarget, "redbrick": RedBrickTarget}

DEFAULT_LIMITS: dict[str, Limits] = {
    # V7 documents 100 items per request (darwin-py sends 10) and no byte limit for registration by reference.
    "darwin": Limits(max_entries=MAX_ITEMS_PER_REQUEST, max_bytes=None),
    # Encord: 10,000 entries per spec file; batches of at most 2 GB keep an upload job under 3 hours.
    "encord": Limits(max_entries=MAX_ENTRIES_PER_FILE, max_bytes=RECOMMENDED_BATCH_BYTES),
    # RedBrick: the SDK validates 50 tasks at a time and drops the whole call if one chunk fails.
    "redbrick": Limits(max_entries=TASKS_PER_BATCH, max_bytes=None),
}
HARD_MAX_ENTRIES = {"darwin": MAX_ITEMS_PER_REQUEST, "encord": MAX_ENTRIES_PER_FILE}


def _platform(platform: str) -> str:
    if platform not in PLATFORMS:
        raise ConfigError("platform", platform, f"use one of {', '.join(PLATFORMS)}")
    return platform


def parse_target(platform: str, target: Mapping[str, Any]) -> BaseModel:
    """The platform's validated target, or an error naming the bad field."""
    try:
        return TARGETS[_platform(platform)].model_validate(dict(target))
    except ValidationError as error:
        raise ConfigError("target", dict(target), validation_message("target", error)) from None


def manifest_builder(platform: str, target: Mapping[str, Any]) -> ManifestBuilder:
    """The platform's document builder for ``target``."""
    parsed = parse_target(platform, target)
    if isinstance(parsed, DarwinTarget):
        return DarwinManifests(parsed)
    if isinstance(parsed, EncordTarget):
        return EncordManifests(parsed)
    assert isinstance(parsed, RedBrickTarget)
    return RedBrickManifests(parsed)


def limits_for(platform: str, max_entries: int | None = None, max_bytes: int | None = None) -> Limits:
    """The platform's default limits with any override applied, never past a documented hard limit."""
    default = DEFAULT_LIMITS[_platform(platform)]
    limits = Limits(
        max_entries=default.max_entries if max_entries is None else max_entries,
        max_bytes=default.max_bytes if max_bytes is None else max_bytes,
    )
    hard = HARD_MAX_ENTRIES.get(platform)
    if hard is not None and limits.max_entries > hard:
        raise ConfigError("max_entries", max_entries, f"{platform} accepts at most {hard:,} entries per batch")
    return limits
