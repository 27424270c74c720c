"""V7 Darwin's ``register_existing`` documents and answers, exactly as V7 documents them.

The payload is ``{"items": [{"path", "type", "storage_key", "name", "fps"?}], "dataset_slug",
"storage_slug"}`` (see the registration guide in ``shared/seeds``). The answer lists ``items`` that were
registered and ``blocked_items`` with ``slots[].reason``; ``ALREADY_EXISTS`` means the (path, name) is
taken, which a re-run treats as a duplicate, not a failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from airflow_ingest.core.batching import Batch
from airflow_ingest.core.items import Item
from airflow_ingest.core.media import MediaKind
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
    """Where items go: the dataset and the storage connection (its name in V7's settings) holding the files."""

    dataset_slug: str = Field(pattern=_SLUG, description="The dataset's slug, as in its V7 URL.")
    storage_slug: str = Field(min_length=1, description="The name of the external storage connection in V7.")


class DarwinItem(_Strict):
    path: str
    type: DarwinType
    storage_key: str
    name: str = Field(min_length=1)
    fps: float | None = Field(default=None, gt=0)

    @field_validator("path")
    @classmethod
    def _path_is_absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"path {value!r} must start with '/'")
        return value

    @field_validator("storage_key")
    @classmethod
    def _key_is_relative(cls, value: str) -> str:
        if not value or value.startswith("/"):
            raise ValueError(f"storage_key {value!r} must be non-empty and must not start with '/'")
        return value


class DarwinPayload(_Strict):
    items: list[DarwinItem] = Field(min_length=1, max_length=MAX_ITEMS_PER_REQUEST)
    dataset_slug: str = Field(pattern=_SLUG)
    storage_slug: str = Field(min_length=1)

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)


def darwin_payload(items: Sequence[Item], target: DarwinTarget) -> DarwinPayload:
    """The read-write registration payload for a batch of single-file items."""
    return DarwinPayload(
        items=[
            DarwinItem(
                path=item.folder,
                type=_DARWIN_TYPES[item.kind],
                storage_key=darwin_storage_key(item.objects[0]),
                name=item.name,
            )
            for item in items
        ],
        dataset_slug=target.dataset_slug,
        storage_slug=target.storage_slug,
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

    def render(self, batch: Batch) -> str:
        return darwin_payload(batch.items, self.target).to_json()
