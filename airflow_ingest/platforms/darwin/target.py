"""The V7 Darwin target: which dataset and storage items go to, and how V7 should treat them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.thumbnails import DerivedKeys

MAX_ITEMS_PER_REQUEST = 100
"""V7's API reference: registration is limited to 100 items per request (and 100 requests per minute)."""


SLUG = r"^[a-z0-9][a-z0-9_-]*$"


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


LOCATE_DEFAULTS = {
    "thumbnail": "thumbnails/{key}.jpg",
    "frame_hq": "{base}/frame_{n}_hq.png",
    "frame_lq": "{base}/frame_{n}_lq.png",
}
"""Where pre-made files are looked for when no template is given: the layout of V7's read-only examples."""


class KeyTemplates(StrictModel):
    """Where the files read-only registration references live, as templates over the object's key.

    One template system (:class:`~airflow_ingest.core.thumbnails.DerivedKeys`) serves both modes: without
    ``thumbnails`` the templates *find* files someone made; with it they say where generated files are written.
    A template left unset defaults by mode: V7's example layout (:data:`LOCATE_DEFAULTS`) to find files, and
    a separate ``thumbnails/`` prefix to write them, so generated files never land among the originals (where a
    later listing would take them for new images). Fields: ``{key}``, ``{base}`` (the key without its
    extension), ``{dir}``, ``{name}``, ``{stem}``, ``{ext}``, ``{prefix}``, and for frames ``{n}`` (1-based).
    """

    thumbnail: str | None = None
    frame_hq: str | None = None
    frame_lq: str | None = None
    prefix: str | None = Field(default=None, description="The {prefix} of generated files (default thumbnails).")
    manifest: str | None = Field(default=None, description="Where a video's generated frame list is written.")

    @model_validator(mode="after")
    def _valid(self) -> KeyTemplates:
        try:
            self.derived(generate=False)
        except ConfigError as error:
            raise ValueError(str(error)) from None
        return self

    def derived(self, *, generate: bool) -> DerivedKeys:
        """The templates as :class:`DerivedKeys`, unset ones defaulted for finding (or for writing) files.

        Raises :class:`ConfigError` for a template that cannot write files safely (one not naming the object).
        """
        given = {name: value for name, value in self if value is not None}
        if generate:
            return DerivedKeys(**given)
        return DerivedKeys(**{**LOCATE_DEFAULTS, **given}, unique=False)


class DarwinTarget(StrictModel):
    """Where items go and how V7 should treat them."""

    dataset_slug: str = Field(pattern=SLUG, description="The dataset's slug, as in its V7 URL.")
    storage_slug: str = Field(min_length=1, description="The name of the external storage connection in V7.")
    fps: float | None = Field(default=None, gt=0, description="Frames per second to sample videos at.")
    ignore_dicom_layout: bool = Field(default=False, description="Keep slices in the order sent, one series each.")
    extract_views: bool = Field(default=False, description="Extract axial, sagittal and coronal views (DICOM).")
    readonly: bool = Field(default=False, description="Register through register_existing_readonly.")
    keys: KeyTemplates = Field(default_factory=KeyTemplates, description="Thumbnail and frame key templates.")


def ledger_destination(
    target: Mapping[str, Any], register: Mapping[str, Any], conn_id: str, extra: Callable[[], Mapping[str, Any]]
) -> tuple[str, str, str]:
    """The ledger's (account, where, storage): the team (the connection's ``extra.team_slug``), dataset, storage."""
    account = str(extra().get("team_slug") or conn_id)
    return account, str(target.get("dataset_slug") or ""), str(target.get("storage_slug") or "")


def thumbnail_keys(target: DarwinTarget) -> DerivedKeys:
    """Where the media stage writes thumbnails and frame sets: V7 Darwin read-only registration only."""
    if not target.readonly:
        raise ConfigError("thumbnails", True, "thumbnails are for V7 Darwin read-only registration (readonly)")
    try:
        return target.keys.derived(generate=True)
    except ConfigError as error:
        raise ConfigError("keys", target.keys.model_dump(exclude_none=True), str(error)) from None
