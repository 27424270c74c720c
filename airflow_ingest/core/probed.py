"""Probed media facts on their way into a platform's documents: a bounded window, and a builder fed by it.

Platform-free: any platform's :class:`~airflow_ingest.core.plan.ManifestBuilder` can be wrapped. The per-platform
choices (targets, builders, limits) are in :mod:`airflow_ingest.platforms`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from airflow_ingest.core.batching import Batch
from airflow_ingest.core.items import Item, reorder_dicom
from airflow_ingest.core.media_info import DicomFields
from airflow_ingest.core.medical_headers import dicom_slice_key
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.plan import ManifestBuilder

Facts = Callable[[StoredObject], Mapping[str, Any] | None]
"""Probed facts of one object (size, mime, DICOM fields...), or None when it was not probed."""


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
