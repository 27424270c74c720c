"""V7 Darwin's ``register_existing`` documents and answers, exactly as V7 documents them.

The payload is ``{"items": [{"path", "type", "storage_key", "name", "fps"?}], "dataset_slug",
"storage_slug"}`` (see the registration guide in ``shared/seeds``). The answer lists ``items`` that were
registered and ``blocked_items`` with ``slots[].reason``; ``ALREADY_EXISTS`` means the (path, name) is
taken, which a re-run treats as a duplicate, not a failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from airflow_ingest.core.batching import Batch
from airflow_ingest.core.items import Item
from airflow_ingest.core.media import MediaKind, media_kind
from airflow_ingest.core.outcomes import Outcome, OutcomeKind
from airflow_ingest.core.urls import darwin_storage_key

MAX_ITEMS_PER_REQUEST = 100
"""V7's API reference: registration is limited to 100 items per request (and 100 requests per minute)."""

ALREADY_EXISTS = "ALREADY_EXISTS"

DarwinType = Literal["image", "video", "pdf", "dicom"]

# darwin-py's get_external_file_type sends NIfTI volumes as "video"; V7 has no other type for them.
_DARWIN_TYPES: dict[MediaKind, DarwinType] = {
    MediaKind.IMAGE: "image",
    MediaKind.VIDEO: "video",
    MediaKind.PDF: "pdf",
    MediaKind.DICOM: "dicom",
    MediaKind.NIFTI: "video",
}

_SLUG = r"^[a-z0-9][a-z0-9_-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DarwinTarget(_Strict):
    """Where items go and how V7 should treat them."""

    dataset_slug: str = Field(pattern=_SLUG, description="The dataset's slug, as in its V7 URL.")
    storage_slug: str = Field(min_length=1, description="The name of the external storage connection in V7.")
    fps: float | None = Field(default=None, gt=0, description="Frames per second to sample videos at.")
    ignore_dicom_layout: bool = Field(default=False, description="Keep slices in the order sent, one series each.")
    extract_views: bool = Field(default=False, description="Extract axial, sagittal and coronal views (DICOM).")


class _Located(_Strict):
    @field_validator("storage_key", check_fields=False)
    @classmethod
    def _key_is_relative(cls, value: str) -> str:
        if not value or value.startswith("/"):
            raise ValueError(f"storage_key {value!r} must be non-empty and must not start with '/'")
        return value


class DarwinSlot(_Located):
    slot_name: str = Field(min_length=1)
    type: DarwinType
    storage_key: str
    file_name: str = Field(min_length=1)
    fps: float | None = Field(default=None, gt=0)
    extract_views: Literal["true"] | None = None


class DarwinItem(_Located):
    """A single-file item (``type`` + ``storage_key``) or a multi-slot one (``slots``), never both."""

    path: str
    name: str = Field(min_length=1)
    type: DarwinType | None = None
    storage_key: str | None = None
    fps: float | None = Field(default=None, gt=0)
    extract_views: Literal["true"] | None = None
    slots: list[DarwinSlot] | None = None

    @field_validator("path")
    @classmethod
    def _path_is_absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"path {value!r} must start with '/'")
        return value

    @model_validator(mode="after")
    def _one_shape(self) -> DarwinItem:
        single = self.type is not None and self.storage_key is not None
        if single == bool(self.slots):
            raise ValueError("an item has either type and storage_key, or slots")
        return self


class DarwinOptions(_Strict):
    ignore_dicom_layout: bool


class DarwinPayload(_Strict):
    items: list[DarwinItem] = Field(min_length=1, max_length=MAX_ITEMS_PER_REQUEST)
    dataset_slug: str = Field(pattern=_SLUG)
    storage_slug: str = Field(min_length=1)
    options: DarwinOptions | None = None

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)


def darwin_item(item: Item, target: DarwinTarget) -> DarwinItem:
    """One item: a single file keeps V7's basic shape; several files become slots.

    DICOM slices of one series share a slot (V7 stacks them); every other file gets a slot of its own.
    """
    if item.single:
        obj = item.series[0].objects[0]
        kind = _DARWIN_TYPES[item.kind]
        return DarwinItem(
            path=item.folder,
            name=item.name,
            type=kind,
            storage_key=darwin_storage_key(obj),
            fps=target.fps if kind == "video" else None,
            extract_views="true" if kind == "dicom" and target.extract_views else None,
        )
    slots: list[DarwinSlot] = []
    next_slot = 0
    for series in item.series:
        dicom = all(media_kind(o.key) is MediaKind.DICOM for o in series.objects)
        for position, obj in enumerate(series.objects):
            if not dicom or position == 0:
                name, next_slot = str(next_slot), next_slot + 1
            kind = _DARWIN_TYPES[media_kind(obj.key) or MediaKind.IMAGE]
            slots.append(
                DarwinSlot(
                    slot_name=name,
                    type=kind,
                    storage_key=darwin_storage_key(obj),
                    file_name=obj.key.rpartition("/")[2],
                    fps=target.fps if kind == "video" else None,
                    extract_views="true" if dicom and name == "0" and target.extract_views else None,
                )
            )
    return DarwinItem(path=item.folder, name=item.name, slots=slots)


def darwin_payload(items: Sequence[Item], target: DarwinTarget) -> DarwinPayload:
    """The read-write ``register_existing`` payload for a batch."""
    return DarwinPayload(
        items=[darwin_item(item, target) for item in items],
        dataset_slug=target.dataset_slug,
        storage_slug=target.storage_slug,
        options=DarwinOptions(ignore_dicom_layout=True) if target.ignore_dicom_layout else None,
    )


def item_id(path: str, name: str) -> str:
    """The same identity as :attr:`Item.id`, rebuilt from a payload or an answer."""
    return f"{path.rstrip('/')}/{name}"


def darwin_outcomes(payload: dict[str, Any], answer: dict[str, Any]) -> list[Outcome]:
    """One outcome per item sent, from a 200 answer; an item the answer does not mention is ``failed``.

    Items are matched by (path, name), V7's identity within a dataset; an answer that omits ``path`` is
    matched by name alone.
    """
    sent = [item_id(i["path"], i["name"]) for i in payload["items"]]
    by_name = {i["name"]: item_id(i["path"], i["name"]) for i in payload["items"]}

    def resolve(entry: dict[str, Any]) -> str | None:
        if "path" in entry and entry["path"] is not None:
            return item_id(str(entry["path"]), str(entry.get("name", "")))
        return by_name.get(str(entry.get("name", "")))

    found: dict[str, Outcome] = {}
    for entry in answer.get("items") or []:
        ident = resolve(entry)
        if ident is not None:
            found[ident] = Outcome(ident, OutcomeKind.REGISTERED)
    for entry in answer.get("blocked_items") or []:
        ident = resolve(entry)
        if ident is None:
            continue
        reasons = sorted({str(s.get("reason", "")) for s in entry.get("slots") or [] if s.get("reason")})
        if reasons == [ALREADY_EXISTS]:
            found[ident] = Outcome(ident, OutcomeKind.DUPLICATE, ALREADY_EXISTS)
        else:
            found[ident] = Outcome(ident, OutcomeKind.BLOCKED, "; ".join(reasons) or "blocked without a reason")
    unmentioned = "V7 answered 200 but did not mention this item"
    return [found.get(ident) or Outcome(ident, OutcomeKind.FAILED, unmentioned, retryable=True) for ident in sent]


def darwin_failed(payload: dict[str, Any], reason: str, *, retryable: bool) -> list[Outcome]:
    """The same failure for every item of a request that got no usable answer."""
    return [Outcome(item_id(i["path"], i["name"]), OutcomeKind.FAILED, reason, retryable) for i in payload["items"]]


class DarwinManifests:
    """Builds one read-write ``register_existing`` payload per batch (see :func:`make_plan`)."""

    platform = "darwin"
    suffix = ".json"

    def __init__(self, target: DarwinTarget) -> None:
        self.target = target

    def refuse(self, item: Item) -> str | None:
        return None  # V7 takes every supported type, and mixed items as multi-slot items

    def entries_of(self, item: Item) -> int:
        return 1

    def render(self, batch: Batch) -> str:
        return darwin_payload(batch.items, self.target).to_json()
