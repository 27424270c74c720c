"""Per-platform choices the plan needs: how to validate a target, build its documents, and the default limits."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from airflow_ingest.core.batching import Batch, Limits
from airflow_ingest.core.darwin import MAX_ITEMS_PER_REQUEST, DarwinManifests, DarwinTarget
from airflow_ingest.core.encord import (
    MAX_DOCUMENT_BYTES,
    MAX_ENTRIES_PER_FILE,
    RECOMMENDED_BATCH_BYTES,
    EncordManifests,
    EncordTarget,
)
from airflow_ingest.core.errors import ConfigError, validation_message
from airflow_ingest.core.items import Item, reorder_dicom
from airflow_ingest.core.media_info import DicomFields
from airflow_ingest.core.medical_headers import dicom_slice_key
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.plan import ManifestBuilder
from airflow_ingest.core.redbrick import TASKS_PER_BATCH, RedBrickManifests, RedBrickTarget

PLATFORMS = ("darwin", "encord", "redbrick")

TARGETS: dict[str, type[BaseModel]] = {"darwin": DarwinTarget, "encord": EncordTarget, "redbrick": RedBrickTarget}

DEFAULT_LIMITS: dict[str, Limits] = {
    # V7 documents 100 items per request (darwin-py sends 10) and no byte limit for registration by reference.
    "darwin": Limits(max_entries=MAX_ITEMS_PER_REQUEST, max_bytes=None),
    # Encord: 10,000 entries and 100 MB per spec file; batches of at most 2 GB keep an upload job under 3 hours.
    "encord": Limits(MAX_ENTRIES_PER_FILE, RECOMMENDED_BATCH_BYTES, MAX_DOCUMENT_BYTES),
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


Facts = Callable[[StoredObject], Mapping[str, Any] | None]


def manifest_builder(platform: str, target: Mapping[str, Any], facts: Facts | None = None) -> ManifestBuilder:
    """The platform's document builder for ``target``; ``facts`` (probed media facts) for Darwin and Encord."""
    parsed = parse_target(platform, target)
    if isinstance(parsed, DarwinTarget):
        return DarwinManifests(parsed, facts) if facts is not None else DarwinManifests(parsed)
    if isinstance(parsed, EncordTarget):
        if facts is not None and parsed.format == "csv":
            raise ConfigError("format", "csv", "Encord's CSV spec has no imageMetadata/videoMetadata; use json")
        return EncordManifests(parsed, facts)
    assert isinstance(parsed, RedBrickTarget)
    return RedBrickManifests(parsed)


def limits_for(platform: str, max_entries: int | None = None, max_bytes: int | None = None) -> Limits:
    """The platform's default limits with any override applied, never past a documented hard limit."""
    default = DEFAULT_LIMITS[_platform(platform)]
    limits = Limits(
        max_entries=default.max_entries if max_entries is None else max_entries,
        max_bytes=default.max_bytes if max_bytes is None else max_bytes,
        max_document_bytes=default.max_document_bytes,
    )
    hard = HARD_MAX_ENTRIES.get(platform)
    if hard is not None and limits.max_entries > hard:
        raise ConfigError("max_entries", max_entries, f"{platform} accepts at most {hard:,} entries per batch")
    return limits


class FactsWindow:
    """Probed facts of the objects between the probe and their manifest, by url: a bounded window.

    Objects are added as they come out of the probe, in key order, and dropped when their item is written into
    a batch or refused, so the window holds the open items, one batch and the probes in flight, never one entry
    per object of the bucket. ``peak`` records the most it held (tests check the bound).
    """

    def __init__(self) -> None:
        self._facts: dict[str, Mapping[str, Any]] = {}
        self.peak = 0

    def add(self, obj: StoredObject, facts: Mapping[str, Any]) -> None:
        self._facts[obj.url] = facts
        self.peak = max(self.peak, len(self._facts))

    def __call__(self, obj: StoredObject) -> Mapping[str, Any] | None:
        return self._facts.get(obj.url)

    def drop(self, objects: Iterable[StoredObject]) -> None:
        for obj in objects:
            self._facts.pop(obj.url, None)

    def __len__(self) -> int:
        return len(self._facts)


class ProbedManifests:
    """A platform's builder fed by a :class:`FactsWindow`: orders DICOM slices by their headers as each item
    passes, and drops facts from the window once an item is refused or its batch is rendered.

    It wraps the builder rather than changing :func:`make_plan`, which calls ``refuse`` once per item before
    batching and ``render`` once per batch: exactly the two moments facts start and stop being needed.
    """

    def __init__(self, inner: ManifestBuilder, window: FactsWindow, *, order_slices: bool = True) -> None:
        self.inner = inner
        self.window = window
        self.order_slices = order_slices
        self.platform = inner.platform
        self.suffix = inner.suffix
        self.target = getattr(inner, "target", None)

    def _slice_key(self, obj: StoredObject) -> tuple[object, ...]:
        known = self.window(obj) or {}
        fields = known.get("dicom")
        return dicom_slice_key(fields if isinstance(fields, DicomFields) else None, obj.key.rpartition("/")[2])

    def refuse(self, item: Item) -> str | None:
        if self.order_slices and not item.single:
            reorder_dicom(item, self._slice_key)
        reason = self.inner.refuse(item)
        if reason is not None:
            self.window.drop(item.objects)
        return reason

    def entries_of(self, item: Item) -> int:
        return self.inner.entries_of(item)

    def weigh(self, item: Item) -> tuple[int, int]:
        measure = getattr(self.inner, "weigh", None)
        return measure(item) if measure is not None else (self.inner.entries_of(item), 0)

    def split(self, item: Item) -> list[Item]:
        parts = getattr(self.inner, "split", None)
        return parts(item) if parts is not None else []

    def render(self, batch: Batch) -> str:
        try:
            return self.inner.render(batch)
        finally:
            self.window.drop(obj for item in batch.items for obj in item.objects)
