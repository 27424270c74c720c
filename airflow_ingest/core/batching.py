"""Batches: items split under a platform's entry, object-byte and document-byte limits, in one streaming pass.

Memory is bounded by one batch. Batches count what is written: the platform's entries, the bytes of the
objects they reference, and (where the platform limits its document's size) the bytes of the document itself,
metadata copied into every entry included. An item over a limit on its own is split where the platform's
document lets it be (Encord: a folder of videos is one entry per video, a study one entry per series); one
that cannot be split and still breaks a hard limit (entries, document bytes) is rejected with a reason, never
sent to fail on every run. An item over the object-byte limit alone (a recommendation, not a refusal) goes in
a batch of its own, flagged ``oversize``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.items import Item


def _whole(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value >= 1


@dataclass(frozen=True, slots=True)
class Limits:
    """At most ``max_entries`` entries, ``max_bytes`` bytes of referenced objects and ``max_document_bytes``
    bytes of manifest per batch (None: no such limit)."""

    max_entries: int
    max_bytes: int | None = None
    max_document_bytes: int | None = None

    def __post_init__(self) -> None:
        if not _whole(self.max_entries):
            raise ConfigError("max_entries", self.max_entries, "use a whole number of at least 1")
        if self.max_bytes is not None and not _whole(self.max_bytes):
            raise ConfigError("max_bytes", self.max_bytes, "use a whole number of bytes of at least 1, or none")
        if self.max_document_bytes is not None and not _whole(self.max_document_bytes):
            raise ConfigError(
                "max_document_bytes", self.max_document_bytes, "use a whole number of bytes of at least 1, or none"
            )


@dataclass(slots=True)
class Batch:
    number: int
    items: list[Item] = field(default_factory=list)
    bytes: int = 0
    entries: int = 0
    oversize: bool = False
    document_bytes: int = 0
    """The estimated size of the batch's manifest (0 when the platform sets no document limit)."""


def one_entry(item: Item) -> int:
    return 1


Reject = Callable[[Item, str], None]
Weigh = Callable[[Item], tuple[int, int]]
"""An item's entries and (at most) its bytes of manifest."""


def no_reject(item: Item, reason: str) -> None:
    raise ValueError(f"item {item.id} {reason}")


def batch_items(
    items: Iterable[Item],
    limits: Limits,
    entries_of: Callable[[Item], int] = one_entry,
    *,
    weigh: Weigh | None = None,
    split: Callable[[Item], list[Item]] | None = None,
    reject: Reject = no_reject,
) -> Iterator[Batch]:
    """Yield numbered batches (from 1) in input order, each within ``limits`` unless it holds one oversize item.

    ``entries_of`` says how many of the platform's entries an item takes (an Encord DICOM study is one
    ``dicom_series`` entry per series); ``weigh`` says that and how many bytes of manifest it takes, at most, in
    one call (used only with ``max_document_bytes``); ``split`` gives the smaller items it can be sent as;
    ``reject`` is told about an item that fits no batch.
    """
    max_entries, max_bytes = limits.max_entries, limits.max_bytes
    max_document = limits.max_document_bytes if weigh is not None else None
    measure = weigh if max_document is not None else None
    current = Batch(number=1)
    pending: deque[tuple[Item, int, int, int]] = deque()  # the parts of a split item still to place
    for item in items:
        size = item.size
        if measure is None:
            entries, document = entries_of(item), 0
        else:
            entries, document = measure(item)
        if (
            entries > max_entries
            or (max_bytes is not None and size > max_bytes)
            or (max_document is not None and document > max_document)
        ):
            pending.extend(_fitted(item, limits, measure or (lambda part: (entries_of(part), 0)), split, reject))
            if not pending:
                continue
            item, size, entries, document = pending.popleft()
        while True:  # once for a fitting item (almost all); once per part for a split one
            if current.items and (
                current.entries + entries > max_entries
                or (max_bytes is not None and current.bytes + size > max_bytes)
                or (max_document is not None and current.document_bytes + document > max_document)
            ):
                yield current
                current = Batch(number=current.number + 1)
            current.items.append(item)
            current.bytes += size
            current.entries += entries
            current.document_bytes += document
            if max_bytes is not None and size > max_bytes:
                current.oversize = True
                yield current
                current = Batch(number=current.number + 1)
            if not pending:
                break
            item, size, entries, document = pending.popleft()
    if current.items:
        yield current


def _fitted(
    item: Item, limits: Limits, weigh: Weigh, split: Callable[[Item], list[Item]] | None, reject: Reject
) -> list[tuple[Item, int, int, int]]:
    """An item over a limit on its own: its parts that fit (split where the document allows), or rejected."""
    parts = split(item) if split is not None else []
    if len(parts) > 1:
        fitted = []
        for part in parts:
            fitted.extend(_fitted(part, limits, weigh, split, reject))
        return fitted
    entries, document = weigh(item)
    max_document = limits.max_document_bytes if document else None
    if entries > limits.max_entries:
        reject(item, f"takes {entries:,} entries, over the {limits.max_entries:,} a batch holds, and cannot be split")
        return []
    if max_document is not None and document > max_document:
        reject(
            item,
            f"needs about {document:,} bytes of manifest, over the {max_document:,} a document may hold, "
            "and cannot be split",
        )
        return []
    return [(item, item.size, entries, document)]
