"""What the fake Encord accepts as an upload job's content: the JSON spec of Encord's private-cloud documents
(``shared/seeds``, two versions) and the SDK's structured ``DataUploadItems`` (encord 0.1.211,
``encord/orm/storage.py``), checked rule by rule; and the documents' CSV spec, which only Encord's web UI takes
(:func:`csv_units`, for checking our CSV output). Each rule's id (``J..`` JSON spec, ``S..`` structured items,
``C..`` CSV) starts the message of a refusal, so a test can prove which rule refused what; README
("Conformance > Encord") lists them with where each comes from.

Where the documents disagree with themselves, the fake follows the section that defines the data type:
- ``createVideo`` is "Required: Yes" in every table, but the DICOM and NIfTI sections' own examples omit it: it
  is required for ``image_groups`` only, whose section, notes and examples all give it (the Azure and GCP
  snippets further down omit it; they illustrate URL formats).
- ``objectUrl_N`` is the frame's position: ``image_groups`` and ``dicom_series`` number from 0 without gaps
  (every example). The newer version's NIfTI example has a lone ``objectUrl_1`` and its table ``objectUrl``,
  so ``nifti_files`` take either, numbered as the caller likes.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

MAX_ENTRIES = 10_000
"""The newer document: "Encord supports up to 10,000 entries in the JSON file"."""
MAX_TITLE = 300
"""Encord's docs outside the seeds (research/platforms.md B.6): names up to 300 characters."""
MAX_CLIENT_METADATA = 10 * 1024 * 1024
"""Both documents: "We enforce a 10MB limit on the client metadata per data item"."""

SECTIONS = ("videos", "images", "image_groups", "dicom_series", "nifti_files", "audio")
_COMMON = {"title", "clientMetadata", "createVideo", "skip_duplicate_urls"}
KEYS: dict[str, set[str]] = {
    "videos": {"objectUrl", "videoMetadata", *_COMMON},
    "images": {"objectUrl", "imageMetadata", *_COMMON},
    "audio": {"objectUrl", "audioMetadata", *_COMMON},
    "image_groups": set(_COMMON),
    "dicom_series": set(_COMMON),
    "nifti_files": {"objectUrl", *_COMMON},
}
"""The keys each section's table documents (``skip_duplicate_urls`` appears in every table as a flag);
grouped sections add ``objectUrl_N``. ``audio`` is not in the seeds but in Encord's current docs."""
_NUMBERED = re.compile(r"^objectUrl_(0|[1-9][0-9]*)$")
VIDEO_METADATA = {"fps": float, "duration": float, "width": int, "height": int, "file_size": int, "mime_type": str}
"""The document's ``videoMetadata`` fields (snake_case in the JSON spec)."""
IMAGE_METADATA = {"mimeType": str, "fileSize": int, "width": int, "height": int}
"""The newer document's ``imageMetadata`` fields (camelCase, unlike videoMetadata)."""


class Refused(ValueError):
    """A spec breaks a documented rule: the start is answered 400 and no job exists."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule


@dataclass
class Unit:
    """One entry of a job: what Encord would create one item from."""

    title: str
    urls: list[str]
    state: str = "PENDING"
    skip_duplicates: bool = False
    create_video: bool = False
    """An image sequence (rendered as a video) rather than an image group."""
    kind: str = ""
    """The JSON spec's section name for its data type: ``skip_duplicate_urls`` skips URLs that match existing
    items *of that type* ("all URLs exactly matching existing image groups", "... existing videos")."""


def _url(where: str, value: Any, rule: str = "J9") -> str:
    if not isinstance(value, str) or not value:
        raise Refused(rule, f"{where}: an object URL must be a non-empty string, not {value!r}")
    if re.search(r"\s", value):
        raise Refused(rule, f"{where}: object URLs must not contain whitespace: {value!r}")
    return value


def _metadata(where: str, value: Any, fields: dict[str, type], rule: str, name: str) -> None:
    if not isinstance(value, dict) or set(value) != set(fields):
        keys = sorted(value) if isinstance(value, dict) else type(value).__name__
        raise Refused(rule, f"{where}: {name} takes exactly {sorted(fields)}, got {keys}")
    for key, kind in fields.items():
        given = value[key]
        ok = (
            isinstance(given, str)
            if kind is str
            else isinstance(given, (int, float)) and not isinstance(given, bool) and math.isfinite(given)
        )
        if kind is int and ok:
            ok = isinstance(given, int) or float(given).is_integer()
        if not ok:
            raise Refused(rule, f"{where}: {name}.{key} must be a {kind.__name__}, not {given!r}")


def client_metadata(where: str, value: Any, rule: str = "J12") -> None:
    if not isinstance(value, dict):
        raise Refused(rule, f"{where}: clientMetadata must be a JSON object, not {type(value).__name__}")
    if len(json.dumps(value, ensure_ascii=False).encode()) > MAX_CLIENT_METADATA:
        raise Refused(rule, f"{where}: clientMetadata is over Encord's 10 MB limit per data item")


def _title(where: str, value: Any, required: bool, rule: str = "J17") -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise Refused("J18" if required else rule, f"{where}: a title (string) is required, got {value!r}")
    if len(value) > MAX_TITLE:
        raise Refused(rule, f"{where}: titles are at most {MAX_TITLE} characters ({len(value)})")
    return value


def _entry(section: str, n: int, entry: Any, strict_client_only: bool) -> Unit:
    where = f"{section}[{n}]"
    if not isinstance(entry, dict):
        raise Refused("J4", f"{where} must be an object")
    numbered = {int(m.group(1)): v for k, v in entry.items() if (m := _NUMBERED.match(k))}
    grouped = section in ("image_groups", "dicom_series", "nifti_files")
    extra = sorted(k for k in entry if k not in KEYS[section] and not (grouped and _NUMBERED.match(k)))
    if extra:
        raise Refused("J5", f"{where}: keys {extra} are not documented for {section}")
    if "skip_duplicate_urls" in entry and not isinstance(entry["skip_duplicate_urls"], bool):
        raise Refused("J3", f"{where}: skip_duplicate_urls must be true or false")
    if "createVideo" in entry and not isinstance(entry["createVideo"], bool):
        given = entry["createVideo"]
        raise Refused("J10", f"{where}: createVideo must be the JSON boolean true or false, not {given!r}")
    if section == "image_groups" and "createVideo" not in entry:
        raise Refused("J11", f"{where}: createVideo is required for image_groups (false: image group, true: sequence)")
    if "clientMetadata" in entry:
        client_metadata(where, entry["clientMetadata"])
    if section in ("videos", "images", "audio"):
        if "objectUrl" not in entry:
            raise Refused("J6", f"{where}: objectUrl is required")
        urls = [_url(where, entry["objectUrl"])]
        title = _title(where, entry.get("title"), required=False) or urls[0].rsplit("/", 1)[-1]
    elif section == "nifti_files":
        if ("objectUrl" in entry) == bool(numbered):
            raise Refused("J8", f"{where}: give objectUrl or objectUrl_N (at least one), not both")
        urls = [_url(where, entry["objectUrl"])] if "objectUrl" in entry else [
            _url(where, numbered[i]) for i in sorted(numbered)
        ]  # fmt: skip
        title = _title(where, entry.get("title"), required=True) or ""
    else:
        if sorted(numbered) != list(range(len(numbered))) or not numbered:
            raise Refused("J7", f"{where}: objectUrl_0, objectUrl_1, ... number the files from 0 without gaps")
        urls = [_url(where, numbered[i]) for i in range(len(numbered))]
        title = _title(where, entry.get("title"), required=True) or ""
    if "videoMetadata" in entry:
        _metadata(where, entry["videoMetadata"], VIDEO_METADATA, "J13", "videoMetadata")
    if "imageMetadata" in entry:
        _metadata(where, entry["imageMetadata"], IMAGE_METADATA, "J14", "imageMetadata")
    if strict_client_only and section in ("videos", "images"):
        needed = "videoMetadata" if section == "videos" else "imageMetadata"
        if needed not in entry:
            raise Refused("J15", f"{where}: {needed} must be specified with a strict client-only integration")
    skip, video = bool(entry.get("skip_duplicate_urls")), bool(entry.get("createVideo", False))
    return Unit(title=title, urls=urls, skip_duplicates=skip, kind=section, create_video=video)


def spec_units(spec: Any, max_entries: int = MAX_ENTRIES, *, strict_client_only: bool = False) -> list[Unit]:
    """The job's units from a JSON spec, or :class:`Refused` naming the first rule it breaks."""
    if not isinstance(spec, dict):
        raise Refused("J1", "the spec must be a JSON object")
    unknown = sorted(set(spec) - set(SECTIONS) - {"skip_duplicate_urls"})
    if unknown:
        raise Refused("J2", f"unknown top-level keys {unknown}; supported: {sorted(SECTIONS)}, skip_duplicate_urls")
    if "skip_duplicate_urls" in spec and not isinstance(spec["skip_duplicate_urls"], bool):
        raise Refused("J3", "skip_duplicate_urls must be true or false")
    top_skip = bool(spec.get("skip_duplicate_urls"))
    units: list[Unit] = []
    for section in SECTIONS:
        entries = spec.get(section, [])
        if not isinstance(entries, list):
            raise Refused("J4", f"{section} must be a list of objects")
        for n, entry in enumerate(entries):
            unit = _entry(section, n, entry, strict_client_only)
            unit.skip_duplicates = unit.skip_duplicates or top_skip
            units.append(unit)
    if len(units) > max_entries:
        raise Refused("J16", f"{len(units)} entries: Encord takes at most {max_entries:,} entries per file")
    return units


# --- the SDK's structured DataUploadItems ----------------------------------------------------------------


class _Dto(BaseModel):
    """camelCase on the wire, as the SDK's BaseDTO sends it; unknown fields refused, JSON types as declared."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, strict=True)


def _no_space(value: str) -> str:
    if not value or re.search(r"\s", value):
        raise ValueError(f"object URLs must be non-empty and hold no whitespace: {value!r}")
    return value


_Url = Annotated[str, AfterValidator(_no_space)]


class _ImageMeta(_Dto):
    mime_type: str
    file_size: int
    height: int
    width: int


class _VideoMeta(_Dto):
    fps: float
    duration: float
    width: int
    height: int
    file_size: int
    mime_type: str


class _Single(_Dto):
    object_url: _Url
    title: str | None = Field(default=None, max_length=MAX_TITLE)
    client_metadata: dict[str, Any] = Field(default_factory=dict)
    placeholder_item_uuid: str | None = None


class _Image(_Single):
    external_file_type: Literal["IMAGE"] = "IMAGE"
    image_metadata: _ImageMeta | None = None


class _Video(_Single):
    external_file_type: Literal["VIDEO"] = "VIDEO"
    video_metadata: _VideoMeta | None = None


class _Nifti(_Single):
    external_file_type: Literal["NIFTI"] = "NIFTI"


class _Audio(_Single):
    external_file_type: Literal["AUDIO"] = "AUDIO"
    audio_metadata: dict[str, Any] | None = None


class _Text(_Single):
    external_file_type: Literal["PLAIN_TEXT"] = "PLAIN_TEXT"
    text_metadata: dict[str, Any] | None = None


class _Pdf(_Single):
    external_file_type: Literal["PDF"] = "PDF"
    pdf_metadata: dict[str, Any] | None = None


class _TimeSeries(_Dto):
    object_url: _Url
    title: str | None = Field(default=None, max_length=MAX_TITLE)
    client_metadata: dict[str, Any] = Field(default_factory=dict)
    settings: dict[str, Any] | None = None
    external_file_type: Literal["TIMESERIES"] = "TIMESERIES"


class _Frame(_Dto):
    url: _Url
    title: str | None = None
    image_metadata: _ImageMeta | None = None
    placeholder_item_uuid: str | None = None


class _ImageGroup(_Dto):
    images: list[_Frame] = Field(min_length=1)
    title: str = Field(min_length=1, max_length=MAX_TITLE)  # "required if using cloud integration"
    client_metadata: dict[str, Any] = Field(default_factory=dict)
    create_video: bool = False
    external_file_type: Literal["IMG_GROUP"] = "IMG_GROUP"


class _FromItems(_Dto):
    image_items: list[str] = Field(min_length=1)
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    client_metadata: dict[str, Any] = Field(default_factory=dict)
    create_video: bool
    video_url_prefix: str | None = None
    external_file_type: Literal["IMG_GROUP_FROM_ITEMS"] = "IMG_GROUP_FROM_ITEMS"


class _DicomFile(_Dto):
    url: _Url
    title: str | None = None
    dicom_metadata: dict[str, Any] | None = None
    placeholder_item_uuid: str | None = None


class _Dicom(_Dto):
    dicom_files: list[_DicomFile] = Field(min_length=1)
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    client_metadata: dict[str, Any] = Field(default_factory=dict)
    external_file_type: Literal["DICOM"] = "DICOM"


class _Scene(_Dto):
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    scene: dict[str, Any]
    client_metadata: dict[str, Any] = Field(default_factory=dict)
    external_file_type: Literal["SCENE"] = "SCENE"
    placeholder_item_uuid: str | None = None


class DataUploadItems(_Dto):
    videos: list[_Video] = Field(default_factory=list)
    image_groups: list[_ImageGroup] = Field(default_factory=list)
    dicom_series: list[_Dicom] = Field(default_factory=list)
    images: list[_Image] = Field(default_factory=list)
    image_groups_from_items: list[_FromItems] = Field(default_factory=list)
    audio: list[_Audio] = Field(default_factory=list)
    time_series: list[_TimeSeries] = Field(default_factory=list)
    nifti: list[_Nifti] = Field(default_factory=list)
    text: list[_Text] = Field(default_factory=list)
    pdf: list[_Pdf] = Field(default_factory=list)
    scenes: list[_Scene] = Field(default_factory=list)
    skip_duplicate_urls: bool = False
    upsert_metadata: bool = False


def _base(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def items_units(
    raw: Any, max_entries: int = MAX_ENTRIES, known_items: Callable[[str], list[str] | None] = lambda _: None
) -> list[Unit]:
    """The job's units from the SDK's structured ``dataItems``, or :class:`Refused` (rule ``S1``..``S4``).

    ``known_items`` gives the URLs of an item the destination already holds (``imageGroupsFromItems``).
    """
    if not isinstance(raw, dict):
        raise Refused("S1", "dataItems must be an object")
    for where, metadata in _client_metadata_fields(raw):
        client_metadata(where, metadata, "S1")
    try:
        items = DataUploadItems.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Refused("S1", f"dataItems.{where}: {first['msg']}") from None
    skip = items.skip_duplicate_urls
    units: list[Unit] = []
    singles: list[tuple[str, list[Any]]] = [
        ("videos", items.videos),
        ("images", items.images),
        ("audio", items.audio),
        ("nifti_files", items.nifti),
        ("text", items.text),
        ("pdf", items.pdf),
        ("time_series", items.time_series),
    ]
    for kind, entries in singles:
        for one in entries:
            units.append(Unit(one.title or _base(one.object_url), [one.object_url], skip_duplicates=skip, kind=kind))
    for group in items.image_groups:
        units.append(Unit(group.title, [f.url for f in group.images], skip_duplicates=skip, kind="image_groups"))
    for series in items.dicom_series:
        units.append(Unit(series.title, [f.url for f in series.dicom_files], skip_duplicates=skip, kind="dicom_series"))
    for scene in items.scenes:
        units.append(Unit(scene.title, [f"scene:{scene.title}"], skip_duplicates=skip, kind="scenes"))
    for made in items.image_groups_from_items:
        urls: list[str] = []
        for item in made.image_items:
            held = known_items(item)
            if held is None:
                raise Refused("S2", f"imageGroupsFromItems: no item {item} in this folder")
            urls.extend(held)
        units.append(Unit(made.title, urls, skip_duplicates=skip, kind="image_groups"))
    if len(units) > max_entries:
        raise Refused("S3", f"{len(units)} entries: Encord takes at most {max_entries:,} entries per job")
    return units


def _client_metadata_fields(raw: dict[str, Any]) -> list[tuple[str, Any]]:
    found = []
    for name, entries in raw.items():
        if isinstance(entries, list):
            for n, entry in enumerate(entries):
                if isinstance(entry, dict) and "clientMetadata" in entry:
                    found.append((f"dataItems.{name}[{n}]", entry["clientMetadata"]))
    return found


# --- the CSV spec (uploaded through Encord's web UI; the SDK sends JSON only) -----------------------------

CSV_TITLES = {
    "video title": "videos",
    "image title": "images",
    "image group title": "image_groups",
    "series title": "dicom_series",
    "nifti title": "nifti_files",
}
"""The second heading names the data type (case-insensitive); ``NIfTI title`` is the newer version's."""


def _csv_header(cells: list[str], line: int) -> tuple[str, bool]:
    names = [cell.strip().lower() for cell in cells[1:]]
    if not names:
        return "videos", False  # "a single ObjectUrl column is interpreted as a request for video upload"
    section = CSV_TITLES.get(names[0])
    if section is None or names[1:] not in ([], ["create video"]):
        raise Refused("C1", f"line {line}: headings {cells} are none of Encord's (ObjectUrl, a title, Create video)")
    if section == "image_groups" and len(names) == 1:
        raise Refused("C1", f"line {line}: image groups MUST have the 'Create video' column")
    return section, len(names) == 2


def csv_units(text: str, max_entries: int = MAX_ENTRIES) -> list[Unit]:
    """The units Encord's CSV rules make of a CSV spec, or :class:`Refused` (``C1``..``C7``).

    A header line (first cell ``ObjectUrl``, any case) starts each block of one data type; rows with the same
    group or series title in a block form one group, in row order; a blank title is the file's name (a DICOM
    file without a series title is a series of its own); a blank 'Create video' means true.
    """
    units: list[Unit] = []
    groups: dict[tuple[str, str], Unit] = {}
    section: str | None = None
    with_flag, width, rows = False, 0, 0
    for line, row in enumerate(csv.reader(io.StringIO(text)), 1):
        if not row:
            continue
        if row[0].strip().lower() == "objecturl":
            section, with_flag = _csv_header(row, line)
            width = len(row)
            continue
        if section is None:
            raise Refused("C2", f"line {line}: a row before any header line")
        if len(row) > width:
            raise Refused("C2", f"line {line}: {len(row)} cells under a header of {width}")
        url = _url(f"line {line}", row[0], "C3")
        title = row[1].strip() if len(row) > 1 else ""
        flag = row[2].strip().lower() if with_flag and len(row) > 2 else ""
        if flag not in ("", "true", "false"):
            raise Refused("C4", f"line {line}: 'Create video' is true, false or blank, not {row[2]!r}")
        video = flag != "false"
        if with_flag and video and section != "image_groups":
            raise Refused("C5", f"line {line}: every file that is not in an image sequence must say 'false'")
        rows += 1
        if section in ("image_groups", "dicom_series"):
            if section == "image_groups" and not title:
                raise Refused("C6", f"line {line}: the image group title is mandatory")
            key = (section, title or url)
            unit = groups.get(key)
            if unit is None:
                unit = groups[key] = Unit(title or _base(url), [], kind=section, create_video=video and with_flag)
                units.append(unit)
            elif unit.create_video != (video and with_flag):
                raise Refused("C4", f"line {line}: the rows of group {title!r} disagree on 'Create video'")
            unit.urls.append(url)
        else:
            units.append(Unit(title or _base(url), [url], kind=section))
    if rows > max_entries:
        raise Refused("C7", f"{rows} entries: Encord takes at most {max_entries:,} entries in a CSV file")
    return units
