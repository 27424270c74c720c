"""Encord's private-cloud upload spec, JSON and CSV, exactly as Encord documents it (``shared/seeds``).

JSON: top-level ``videos``, ``images``, ``image_groups`` (``createVideo: false`` for image groups, ``true``
for image sequences), ``dicom_series`` and ``nifti_files``; single files take ``objectUrl``, groups and
series ``objectUrl_0``, ``objectUrl_1``, ... in order; ``title``, ``clientMetadata`` (at most 10 MB per
item), ``videoMetadata`` / ``imageMetadata`` when known, and a top-level ``skip_duplicate_urls``.

CSV: case-insensitive headings per data type (``ObjectUrl`` with ``Video title``, ``Image title``,
``Image group title`` + ``Create video``, ``Series title`` or ``NIfTI title``) and a new header line at
each change of type; when a file holds image groups, every block carries ``Create video`` (``false`` for
all but sequences), as Encord's multi-type example shows. clientMetadata and skip_duplicate_urls exist
only in JSON.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from airflow_ingest.core.batching import Batch
from airflow_ingest.core.items import Item
from airflow_ingest.core.media import MediaKind
from airflow_ingest.core.urls import Linker, UrlStyle

MAX_ENTRIES_PER_FILE = 10_000
"""Encord: "up to 10,000 entries in the JSON file" (and in the CSV file)."""
RECOMMENDED_BATCH_BYTES = 2_000_000_000
"""Encord: "uploading files in batches not exceeding 2GB, to ensure upload does not exceed 3 hours"."""
MAX_CLIENT_METADATA_BYTES = 10 * 1024 * 1024
"""Encord: "We enforce a 10MB limit on the client metadata per data item"."""

Section = Literal["videos", "images", "image_groups", "dicom_series", "nifti_files"]
SECTIONS: tuple[Section, ...] = ("videos", "images", "image_groups", "dicom_series", "nifti_files")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _no_whitespace(url: str) -> str:
    if not url or any(c.isspace() for c in url):
        raise ValueError(f"object URL {url!r} is empty or contains whitespace, which Encord refuses")
    return url


def _metadata_fits(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None and len(json.dumps(value, ensure_ascii=False).encode()) > MAX_CLIENT_METADATA_BYTES:
        raise ValueError("clientMetadata is over Encord's 10 MB limit per item")
    return value


class EncordTarget(_Strict):
    """How to write Encord documents for a run."""

    format: Literal["json", "csv"] = "json"
    skip_duplicate_urls: bool = Field(default=True, description="Make re-runs idempotent (JSON only).")
    create_video: bool = Field(default=False, description="Image folders become image sequences, not groups.")
    url_style: UrlStyle | None = None
    region: str | None = Field(default=None, description="S3 region for virtual-hosted and path-style URLs.")
    account: str | None = Field(default=None, description="Azure storage account.")
    access_point_arn: str | None = Field(default=None, description="S3 Multi-Region Access Point ARN.")
    client_metadata: dict[str, Any] | None = Field(default=None, description="clientMetadata on every entry.")

    _fits = field_validator("client_metadata")(classmethod(lambda cls, v: _metadata_fits(v)))

    @property
    def linker(self) -> Linker:
        return Linker(self.url_style, self.region, self.account, self.access_point_arn)


class EncordFile(_Strict):
    """A ``videos``, ``images`` or ``nifti_files`` entry of one file."""

    objectUrl: str
    title: str = Field(min_length=1, max_length=300)
    clientMetadata: dict[str, Any] | None = None
    videoMetadata: dict[str, Any] | None = None
    imageMetadata: dict[str, Any] | None = None

    _url = field_validator("objectUrl")(classmethod(lambda cls, v: _no_whitespace(v)))
    _fits = field_validator("clientMetadata")(classmethod(lambda cls, v: _metadata_fits(v)))


class EncordGroup(_Strict):
    """An ``image_groups``, ``dicom_series`` or ``nifti_files`` entry of ordered files."""

    title: str = Field(min_length=1, max_length=300)
    urls: list[str] = Field(min_length=1)
    createVideo: bool | None = None
    clientMetadata: dict[str, Any] | None = None

    _urls = field_validator("urls")(classmethod(lambda cls, v: [_no_whitespace(u) for u in v]))
    _fits = field_validator("clientMetadata")(classmethod(lambda cls, v: _metadata_fits(v)))

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"title": self.title}
        if self.createVideo is not None:
            entry["createVideo"] = self.createVideo
        entry.update({f"objectUrl_{n}": url for n, url in enumerate(self.urls)})
        if self.clientMetadata is not None:
            entry["clientMetadata"] = self.clientMetadata
        return entry


@dataclass(frozen=True, slots=True)
class Entry:
    section: Section
    body: EncordFile | EncordGroup


class EncordManifests:
    """Builds one Encord upload spec per batch (JSON or CSV) from items (see :func:`make_plan`)."""

    platform = "encord"

    def __init__(self, target: EncordTarget) -> None:
        self.target = target
        self.suffix = ".csv" if target.format == "csv" else ".json"
        self.linker = target.linker

    def refuse(self, item: Item) -> str | None:
        """Why Encord cannot take ``item``, or None."""
        if len(item.kinds) != 1:
            return f"mixes {', '.join(sorted(k.value for k in item.kinds))}; an Encord entry holds one data type"
        if item.kind is MediaKind.PDF:
            return "PDF: Encord's private-cloud upload spec has no entry for PDFs"
        return None

    def entries_of(self, item: Item) -> int:
        return sum(1 for _ in self.entries(item))

    def entries(self, item: Item) -> Iterator[Entry]:
        kind = item.kind
        metadata = self.target.client_metadata
        if kind is MediaKind.IMAGE and not item.single:
            for series in item.series:
                urls = [self.linker.link(o) for o in series.objects]
                group = EncordGroup(
                    title=_title(item, series.name),
                    urls=urls,
                    createVideo=self.target.create_video,
                    clientMetadata=metadata,
                )
                yield Entry("image_groups", group)
            return
        if kind is MediaKind.DICOM:
            for series in item.series:
                urls = [self.linker.link(o) for o in series.objects]
                yield Entry(
                    "dicom_series", EncordGroup(title=_title(item, series.name), urls=urls, clientMetadata=metadata)
                )
            return
        for obj in item.objects:
            url = self.linker.link(obj)
            if kind is MediaKind.NIFTI:
                yield Entry("nifti_files", EncordGroup(title=obj.key, urls=[url], clientMetadata=metadata))
            else:
                section: Section = "videos" if kind is MediaKind.VIDEO else "images"
                yield Entry(section, EncordFile(objectUrl=url, title=obj.key, clientMetadata=metadata))

    def render(self, batch: Batch) -> str:
        entries = [entry for item in batch.items for entry in self.entries(item)]
        if self.target.format == "csv":
            return render_csv(entries)
        return json.dumps(spec_json(entries, self.target.skip_duplicate_urls), ensure_ascii=False)


def _title(item: Item, series: str) -> str:
    base = item.id.lstrip("/")
    return base if len(item.series) == 1 else f"{base}/{series}"


def spec_json(entries: list[Entry], skip_duplicate_urls: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    for entry in entries:
        body = entry.body
        rendered = body.to_json() if isinstance(body, EncordGroup) else body.model_dump(exclude_none=True)
        spec.setdefault(entry.section, []).append(rendered)
    if skip_duplicate_urls:
        spec["skip_duplicate_urls"] = True
    return spec


_CSV_TITLES: dict[Section, str] = {
    "videos": "Video title",
    "images": "Image title",
    "image_groups": "Image group title",
    "dicom_series": "Series title",
    "nifti_files": "NIfTI title",
}


def render_csv(entries: list[Entry]) -> str:
    """One row per file; a new header line whenever the data type (or groups vs sequences) changes."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    with_create_video = any(entry.section == "image_groups" for entry in entries)
    header: tuple[str, ...] | None = None
    for entry in entries:
        body = entry.body
        columns: tuple[str, ...] = ("ObjectUrl", _CSV_TITLES[entry.section])
        if with_create_video:
            columns += ("Create video",)
        if columns != header:
            writer.writerow(columns)
            header = columns
        sequence = isinstance(body, EncordGroup) and bool(body.createVideo)
        flag = ["true" if sequence else "false"] if with_create_video else []
        urls = body.urls if isinstance(body, EncordGroup) else [body.objectUrl]
        for url in urls:
            writer.writerow([url, body.title, *flag])
    return out.getvalue()
