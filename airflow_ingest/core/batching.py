"""Batches: items split under a platform's entry and byte limits, in one streaming pass.

Memory is bounded by one batch. An item is never split; an item larger than the byte limit on its own goes
in a batch of its own, flagged ``oversize`` so the plan can say so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.items import Item


@dataclass(frozen=True, slots=True)
class Limits:
    """At most ``max_entries`` items and ``max_bytes`` bytes of referenced objects per batch."""

    max_entries: int
    max_bytes: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.max_entries, bool) or not isinstance(self.max_entries, int) or self.max_entries < 1:
            raise ConfigError("max_entries", self.max_entries, "use a whole number of at least 1")
        if self.max_bytes is not None and (
            isinstance(self.max_bytes, bool) or not isinstance(self.max_bytes, int) or self.max_bytes < 1
        ):
            raise ConfigError("max_bytes", self.max_bytes, "use a whole number of bytes of at least 1, or none")


@dataclass(slots=True)
class Batch:
    number: int
    items: list[Item] = field(default_factory=list)
    bytes: int = 0
    entries: int = 0
    oversize: bool = False


def one_entry(item: Item) -> int:
    return 1


def batch_items(
    items: Iterable[Item], limits: Limits, entries_of: Callable[[Item], int] = one_entry
) -> Iterator[Batch]:
    """Yield numbered batches (from 1) in input order, each within ``limits`` unless it holds one oversize item.

    ``entries_of`` says how many of the platform's entries an item takes (an Encord DICOM study is one
    ``dicom_series`` entry per series); an item over a limit on its own gets a batch of its own, flagged.
    """
    current = Batch(number=1)
    for item in items:
        size = item.size
        entries = entries_of(item)
        over_bytes = limits.max_bytes is not None and current.bytes + size > limits.max_bytes
        if current.items and (current.entries + entries > limits.max_entries or over_bytes):
            yield current
            current = Batch(number=current.number + 1)
        current.items.append(item)
        current.bytes += size
        current.entries += entries
        if (limits.max_bytes is not None and size > limits.max_bytes) or entries > limits.max_entries:
            current.oversize = True
            yield current
            current = Batch(number=current.number + 1)
    if current.items:
        yield current
