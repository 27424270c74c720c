"""V7 Darwin's ``register_existing`` documents, exactly as V7 documents them.

The payload is ``{"items": [{"path", "type", "storage_key", "name", "fps"?}], "dataset_slug",
"storage_slug"}`` (see the registration guide in ``shared/seeds``); V7's answers are read in
:mod:`~airflow_ingest.platforms.darwin.answers`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from pydantic import Field, model_validator

from airflow_ingest.core.batching import Batch
from airflow_ingest.core.items import Item
from airflow_ingest.core.media import MediaKind, media_kind
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.urls import darwin_storage_key, path_problem
from airflow_ingest.platforms.darwin.target import MAX_ITEMS_PER_REQUEST, SLUG, DarwinTarget, StrictModel

DarwinType = Literal["image", "video", "pdf", "dicom"]

# darwin-py's get_external_file_type sends NIfTI volumes as "video"; V7 has no other type for them.
_DARWIN_TYPES: dict[MediaKind, DarwinType] = {
    MediaKind.IMAGE: "image",
    MediaKind.VIDEO: "video",
    MediaKind.PDF: "pdf",
    MediaKind.DICOM: "dicom",
    MediaKind.NIFTI: "video",
}


_RELATIVE_KEY = r"^[^/]"  # V7: "cannot start with a forward slash"; checked by pydantic-core, not in Python
_FOLDER = r"^/"


class DarwinSection(StrictModel):
    section_index: int = Field(ge=1)
    height: int = Field(gt=0)
    width: int = Field(gt=0)
    storage_hq_key: str = Field(min_length=1)
    storage_lq_key: str = Field(min_length=1)


class _FileFields(StrictModel):
    """What V7 takes about one file, whether it is an item's only file or one slot's."""

    fps: float | None = Field(default=None, gt=0)
    native_fps: float | None = Field(default=None, gt=0)
    extract_views: Literal["true"] | None = None
    storage_thumbnail_key: str | None = None
    height: int | None = Field(default=None, gt=0)
    width: int | None = Field(default=None, gt=0)
    sections: list[DarwinSection] | None = None


class DarwinSlot(_FileFields):
    slot_name: str = Field(min_length=1)
    type: DarwinType
    storage_key: str = Field(pattern=_RELATIVE_KEY)
    file_name: str = Field(min_length=1)

    @model_validator(mode="after")
    def _guide_rules(self) -> DarwinSlot:
        """The guide: ``file_name`` is the last part of ``storage_key``; ``extract_views`` needs slot ``"0"``."""
        if self.file_name != self.storage_key.rpartition("/")[2]:
            raise ValueError(f"file_name {self.file_name!r} must be the last part of storage_key {self.storage_key!r}")
        if self.extract_views and self.slot_name != "0":
            raise ValueError(f"extract_views needs slot_name '0', not {self.slot_name!r}")
        return self


class DarwinItem(_FileFields):
    """A single-file item (``type`` + ``storage_key``) or a multi-slot one (``slots``), never both."""

    path: str = Field(pattern=_FOLDER)
    name: str = Field(min_length=1)
    type: DarwinType | None = None
    storage_key: str | None = Field(default=None, pattern=_RELATIVE_KEY)
    slots: list[DarwinSlot] | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> DarwinItem:
        single = self.type is not None and self.storage_key is not None
        if single == bool(self.slots):
            raise ValueError("an item has either type and storage_key, or slots")
        shared: dict[str, list[DarwinType]] = {}
        for slot in self.slots or []:
            shared.setdefault(slot.slot_name, []).append(slot.type)
        if any(len(kinds) > 1 and set(kinds) != {"dicom"} for kinds in shared.values()):
            raise ValueError("only DICOM slices may share a slot_name")
        return self


class DarwinOptions(StrictModel):
    ignore_dicom_layout: bool


class DarwinPayload(StrictModel):
    items: list[DarwinItem] = Field(min_length=1, max_length=MAX_ITEMS_PER_REQUEST)
    dataset_slug: str = Field(pattern=SLUG)
    storage_slug: str = Field(min_length=1)
    options: DarwinOptions | None = None

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)


MediaFacts = Callable[[StoredObject], Mapping[str, Any] | None]
"""What is known about a file beyond the listing, from probing: ``width``, ``height`` (as a viewer shows it),
``frames`` and ``fps`` (videos); with generated files, ``thumbnail`` (its object key) and ``sections`` (V7's
section dicts with object keys); or ``failure``, why the file could not be probed or its files made."""


def no_facts(obj: StoredObject) -> Mapping[str, Any] | None:
    return None


def readonly_fields(obj: StoredObject, kind: DarwinType, target: DarwinTarget, facts: MediaFacts) -> dict[str, Any]:
    """The read-only extras of one file: its thumbnail key, its size, and for videos its frame sections.

    Generated files (``thumbnail``/``sections`` in the facts) are referenced by the keys actually written;
    otherwise the templates say where pre-made files are. Keys become V7 storage keys (an Azure key gains its
    container) the same way the file's own key does. Raises ValueError (the item is skipped) when a fact is missing.
    """
    known = facts(obj) or {}
    if known.get("failure"):
        raise ValueError(f"{obj.key}: {known['failure']}")
    if "width" not in known or "height" not in known:
        raise ValueError(f"{obj.key}: read-only registration needs the width and height; probe the files first")
    key = darwin_storage_key(obj)
    container = key[: len(key) - len(obj.key)]  # what V7's storage key adds to an object key (Azure)
    keys = target.keys.derived(generate=False)
    thumbnail = known.get("thumbnail")
    fields: dict[str, Any] = {
        "storage_thumbnail_key": container + thumbnail if thumbnail else keys.thumbnail_key(key),
    }
    height, width = int(known["height"]), int(known["width"])
    if kind != "video":
        fields.update(height=height, width=width)
        return fields
    if known.get("fps"):
        fields["native_fps"] = float(known["fps"])
    made = known.get("sections")
    if made:
        fields["sections"] = [
            {**s, "storage_hq_key": container + s["storage_hq_key"], "storage_lq_key": container + s["storage_lq_key"]}
            for s in made
        ]
        return fields
    frames = int(known.get("frames") or 0)
    if frames < 1:
        raise ValueError(f"{obj.key}: read-only videos need their extracted frames; probe the video first")
    fields["sections"] = [
        {
            "section_index": n,
            "height": height,
            "width": width,
            "storage_hq_key": keys.frame_key(key, n, "hq"),
            "storage_lq_key": keys.frame_key(key, n, "lq"),
        }
        for n in range(1, frames + 1)
    ]
    return fields


def darwin_item(item: Item, target: DarwinTarget, facts: MediaFacts = no_facts) -> dict[str, Any]:
    """One item as V7's JSON: a single file keeps the basic shape; several files become slots.

    DICOM slices of one series share a slot (V7 stacks them); every other file gets a slot of its own.
    Read-only items carry a thumbnail key and their size (videos: frame sections) and never ``fps``.
    Plain dicts: :func:`darwin_payload` validates the whole batch at once, in pydantic-core.
    """
    if item.single:
        obj = item.series[0].objects[0]
        kind = _DARWIN_TYPES[item.kind]
        single: dict[str, Any] = {"path": item.folder, "type": kind, "storage_key": darwin_storage_key(obj)}
        single["name"] = item.name
        if kind == "video" and target.fps and not target.readonly:
            single["fps"] = target.fps
        if kind == "dicom" and target.extract_views:
            single["extract_views"] = "true"
        if target.readonly:
            single.update(readonly_fields(obj, kind, target, facts))
        return single
    slots: list[dict[str, Any]] = []
    next_slot = 0
    for series in item.series:
        dicom = all(media_kind(o.key) is MediaKind.DICOM for o in series.objects)
        for position, obj in enumerate(series.objects):
            if not dicom or position == 0:
                name, next_slot = str(next_slot), next_slot + 1
            kind = _DARWIN_TYPES[media_kind(obj.key) or MediaKind.IMAGE]
            slot: dict[str, Any] = {"slot_name": name, "type": kind, "storage_key": darwin_storage_key(obj)}
            slot["file_name"] = obj.key.rpartition("/")[2]
            if kind == "video" and target.fps and not target.readonly:
                slot["fps"] = target.fps
            if dicom and name == "0" and target.extract_views:
                slot["extract_views"] = "true"
            if target.readonly:
                slot.update(readonly_fields(obj, kind, target, facts))
            slots.append(slot)
    return {"path": item.folder, "name": item.name, "slots": slots}


def darwin_payload(items: Sequence[Item], target: DarwinTarget, facts: MediaFacts = no_facts) -> DarwinPayload:
    """The ``register_existing`` (or ``register_existing_readonly``) payload for a batch, validated."""
    document: dict[str, Any] = {
        "items": [darwin_item(item, target, facts) for item in items],
        "dataset_slug": target.dataset_slug,
        "storage_slug": target.storage_slug,
    }
    if target.ignore_dicom_layout:
        document["options"] = {"ignore_dicom_layout": True}
    return DarwinPayload.model_validate(document)


class DarwinManifests:
    """Builds one ``register_existing`` (or read-only) payload per batch (see :func:`make_plan`)."""

    platform = "darwin"
    suffix = ".json"

    def __init__(self, target: DarwinTarget, facts: MediaFacts = no_facts) -> None:
        self.target = target
        self.facts = facts

    def refuse(self, item: Item) -> str | None:
        """V7 takes every supported type, mixed items as multi-slot items; read-only needs more.

        An item whose key or folder path has an empty or dot segment is refused: V7's folder paths are
        normalised, so ``/a.jpg``, ``a//b.jpg`` and ``a/./b.jpg`` would be filed as the items of ``a.jpg`` and
        ``a/b.jpg`` (V7 answers ``ALREADY_EXISTS`` and the object is never registered), and a storage key
        "cannot start with a forward slash".
        """
        if MediaKind.AUDIO in item.kinds:
            return "is audio, which this provider does not register into V7"
        path = item.path if item.path is not None else item.id[1:]
        # path_problem(path), its common case inline: no leading or trailing "/" or ".", no "//" or "/."
        odd = path[:1] in ("/", ".", "") or path[-1:] == "/" or "//" in path or "/." in path
        problem = path_problem(path) if odd else None
        if problem is not None:
            return f"has {problem}: V7 would file it as another path's item (folder paths are normalised)"
        if not self.target.readonly:
            return None
        if MediaKind.DICOM in item.kinds or MediaKind.NIFTI in item.kinds:
            return "is DICOM or NIfTI, which V7 cannot register read-only (convert it to images first)"
        try:
            darwin_item(item, self.target, self.facts)
        except ValueError as error:
            return str(error).splitlines()[0]
        return None

    def entries_of(self, item: Item) -> int:
        return 1

    def render(self, batch: Batch) -> str:
        return darwin_payload(batch.items, self.target, self.facts).to_json()
