"""Items: what the platform sees as one unit of annotation work, made of one or more stored objects.

Layouts decide how objects become items. This module holds the ``file`` layout (one object, one item);
objects of unsupported kinds become :class:`Skipped` entries with a reason so nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from airflow_ingest.core.media import SUPPORTED_SUFFIXES, MediaKind, media_kind
from airflow_ingest.core.objects import StoredObject


@dataclass(frozen=True, slots=True)
class Item:
    """One platform item.

    ``folder`` is where it goes in the platform's tree (always starts with ``/``) and ``name`` its name
    there; the pair is unique within a run and stable across runs because both come from the object keys.
    """

    name: str
    folder: str
    kind: MediaKind
    objects: tuple[StoredObject, ...]

    @property
    def id(self) -> str:
        """The item's identity in reports and ledgers: its folder and name joined like a path."""
        return f"{self.folder.rstrip('/')}/{self.name}"

    @property
    def size(self) -> int:
        return sum(obj.size for obj in self.objects)


@dataclass(frozen=True, slots=True)
class Skipped:
    """An object that becomes no item, and why."""

    object: StoredObject
    reason: str


def file_items(objects: Iterable[StoredObject]) -> Iterator[Item | Skipped]:
    """The ``file`` layout: every supported object is one item named after its file, in its key's folder."""
    for obj in objects:
        kind = media_kind(obj.key)
        if kind is None:
            yield Skipped(obj, f"unsupported file type; supported suffixes: {' '.join(SUPPORTED_SUFFIXES)}")
            continue
        folder, _, name = obj.key.rpartition("/")
        yield Item(name=name, folder="/" + folder, kind=kind, objects=(obj,))
