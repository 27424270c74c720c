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
import hashlib
import io
import json
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, TypeAdapter
from typing_extensions import NotRequired, TypedDict

from airflow_ingest.core.batching import Batch
from airflow_ingest.core.items import Item, Layout, Series, one_kind_no_pdf
from airflow_ingest.core.media import MediaKind, media_kind
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.urls import dot_segment
from airflow_ingest.platforms.encord.target import EncordTarget

Section = Literal["videos", "images", "image_groups", "dicom_series", "nifti_files"]


_encode = json.JSONEncoder(ensure_ascii=False).encode


MAX_TITLE = 300
"""Encord: file names (titles) "may be up to 300 chars"."""

_URL = Annotated[str, StringConstraints(pattern=r"^\S+$")]
_TITLE = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TITLE)]

_MARK = "~"
_DIGEST = 16


def title_of(text: str) -> str:
    """The Encord title for a key or folder path: the text itself when it fits, else a short unique form.

    Encord titles hold at most 300 characters, and a title is what Encord (and the CSV spec's grouping) names
    an item by, so two paths must never share one. A text over 300 characters keeps its end (the file name)
    after ``…`` and ends with ``~`` and 16 hex digits of its SHA-256. So that no title written as is can equal
    a shortened one, a text that already has ``~`` where that mark goes is shortened the same way (it gains its
    own digest): the mapping is one-to-one whatever the bucket holds.
    """
    if len(text) <= MAX_TITLE and text[-_DIGEST - 1 : -_DIGEST] != _MARK:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_DIGEST]
    room = MAX_TITLE - _DIGEST - 1
    head = text if len(text) <= room else "…" + text[-(room - 1) :]
    return f"{head}{_MARK}{digest}"


class Entry(TypedDict):
    """One entry of the spec, before rendering: a single file (``objectUrl``) or an ordered group (``objectUrl_n``)."""

    section: Section
    title: _TITLE
    urls: Annotated[list[_URL], Field(min_length=1)]
    single: bool
    create_video: bool | None
    metadata: NotRequired[str]
    """A single file's ``,"imageMetadata":{...}`` or ``,"videoMetadata":{...}``, rendered (probed files only)."""


ENTRIES = TypeAdapter(list[Entry])
"""Validates a whole batch's entries at once in pydantic-core: no whitespace in a URL, titles of 1-300 chars."""


def _entry(section: Section, title: str, urls: list[str], *, single: bool = False, video: bool | None = None) -> Entry:
    return {"section": section, "title": title, "urls": urls, "single": single, "create_video": video}


_SINGLE_FILE: dict[frozenset[MediaKind], tuple[Section, bool]] = {
    frozenset({MediaKind.IMAGE}): ("images", True),
    frozenset({MediaKind.VIDEO}): ("videos", True),
    frozenset({MediaKind.DICOM}): ("dicom_series", False),
    frozenset({MediaKind.NIFTI}): ("nifti_files", False),
}
"""A lone file's section, and whether it takes ``objectUrl`` (images, videos) or ``objectUrl_0`` (a series)."""


_TAKEN = frozenset(frozenset({kind}) for kind in (MediaKind.IMAGE, MediaKind.VIDEO, MediaKind.DICOM, MediaKind.NIFTI))
"""The kinds of an item Encord takes: one data type, not PDF (what :func:`one_kind_no_pdf` lets through)."""


class EncordManifests:
    """Builds one Encord upload spec per batch (JSON or CSV) from items (see :func:`make_plan`)."""

    platform = "encord"

    def __init__(
        self, target: EncordTarget, facts: Callable[[StoredObject], Mapping[str, Any] | None] | None = None
    ) -> None:
        self.target = target
        self.facts = facts
        """Probed facts per file (``image_metadata``/``video_metadata``); None (no probing) costs nothing."""
        self.suffix = ".csv" if target.format == "csv" else ".json"
        self.linker = target.linker
        metadata = target.client_metadata
        meta = len(_encode(metadata).encode("utf-8")) + 20 if metadata is not None else 0
        self._entry_room = 96 + meta + (1024 if facts is not None else 0)
        """At most the bytes an entry takes besides its URLs and title: keys, flags, clientMetadata, probed facts."""

    def refuse(self, item: Item) -> str | None:
        """Why Encord cannot take ``item`` (its spec has no entry for PDFs), or None.

        Asked once per item: a set lookup answers for every item Encord takes (the frozenset's hash is cached),
        and only a refusal pays for building its reason.
        """
        if item.layout is Layout.FILE:
            key = item.series[0].objects[0].key
            problem = dot_segment(key) if key[:1] == "." or "/." in key else None
        else:
            problem = next((p for p in map(dot_segment, (o.key for o in item.objects)) if p is not None), None)
        if problem is not None:
            return f"has {problem}: no URL fetches it as it is (clients resolve the segment to another object)"
        if item.layout is Layout.FOLDER and item.path is not None and media_kind(item.path) is not None:
            return "is a folder named like a file: its title would be that of a file titled by its key"
        if item.kinds in _TAKEN:
            return None
        return one_kind_no_pdf(item, "an Encord entry")

    def entries_of(self, item: Item) -> int:
        """Count without building: image groups and DICOM series are one entry per series, the rest per file."""
        if item.layout is Layout.FILE:  # ``item.single`` without a property call: asked once per item
            return 1
        if item.kind in (MediaKind.IMAGE, MediaKind.DICOM):
            return len(item.series)
        return sum(len(series.objects) for series in item.series)

    def weigh(self, item: Item) -> tuple[int, int]:
        """:meth:`entries_of` and :meth:`document_bytes` in one call (the plan asks once per item)."""
        if item.layout is Layout.FILE:
            return 1, self._entry_room + 256 + 18 * len(item.path or item.series[0].objects[0].key)
        return self.entries_of(item), self.document_bytes(item)

    def document_bytes(self, item: Item) -> int:
        """At most how many bytes of spec ``item`` takes, counted before rendering (memory stays at one batch).

        Generous on purpose: a URL is at most 12 characters per character of key (``%XX`` for each of up to 4
        UTF-8 bytes) after the bucket's prefix, a title at most 6 (a JSON ``\\uXXXX`` escape), and a CSV row
        repeats its entry's title. Most keys are far shorter written, and the plan still measures the text.
        """
        room = self._entry_room
        if item.layout is Layout.FILE:
            return room + 256 + 18 * len(item.path or item.series[0].objects[0].key)
        title = 6 * (len(item.path if item.path is not None else item.id) + 1)
        per_object = 256 + title
        total = self.entries_of(item) * (room + title)
        return total + sum([per_object + 18 * len(obj.key) for series in item.series for obj in series.objects])

    def split(self, item: Item) -> list[Item]:
        """The smaller items an item can be sent as: each video or NIfTI file of a folder is an entry of its own,
        and each series of a study; an image group or DICOM series is one entry and cannot be split.

        The parts keep their entries' titles (a file's key, ``study/series``), so a split changes no title.
        """
        if item.layout is Layout.FILE or len(item.kinds) != 1:
            return []
        kind = item.kind
        if kind in (MediaKind.VIDEO, MediaKind.NIFTI):
            parts = []
            for obj in item.objects:
                folder, _, name = obj.key.rpartition("/")
                parts.append(Item(name, "/" + folder, item.kinds, (Series(name, (obj,)),), Layout.FILE, obj.key))
            return parts
        if len(item.series) < 2:
            return []
        base = item.id[1:]
        return [Item(s.name, item.id, item.kinds, (s,), item.layout, f"{base}/{s.name}") for s in item.series]

    def entries(self, item: Item) -> list[Entry]:
        link = self.linker.link
        if item.single:  # the common case, kept short: one file, one entry
            obj = item.series[0].objects[0]
            section, single = _SINGLE_FILE[item.kinds]
            if self.facts is None:
                return [
                    {
                        "section": section,
                        "title": title_of(obj.key),
                        "urls": [link(obj)],
                        "single": single,
                        "create_video": None,
                    }
                ]
            entry = _entry(section, title_of(obj.key), [link(obj)], single=single)
            if single:
                self._describe(entry, obj)
            return [entry]
        kind = item.kind
        if kind is MediaKind.IMAGE:
            video = self.target.create_video
            return [
                _entry("image_groups", _title(item, s.name), [link(o) for o in s.objects], video=video)
                for s in item.series
            ]
        if kind is MediaKind.DICOM:
            return [_entry("dicom_series", _title(item, s.name), [link(o) for o in s.objects]) for s in item.series]
        if kind is MediaKind.NIFTI:
            return [_entry("nifti_files", title_of(obj.key), [link(obj)]) for obj in item.objects]
        section = "videos" if kind is MediaKind.VIDEO else "images"
        entries = [_entry(section, title_of(obj.key), [link(obj)], single=True) for obj in item.objects]
        if self.facts is not None:
            for each, obj in zip(entries, item.objects, strict=True):
                self._describe(each, obj)
        return entries

    def _describe(self, entry: Entry, obj: StoredObject) -> None:
        """Add Encord's imageMetadata or videoMetadata from the probe; a file the probe could not read goes
        without (Encord then reads the file itself, unless the integration is strict client-only)."""
        known = self.facts(obj) if self.facts is not None else None
        if not known:
            return
        name = "videoMetadata" if entry["section"] == "videos" else "imageMetadata"
        value = known.get("video_metadata" if name == "videoMetadata" else "image_metadata")
        if value:
            entry["metadata"] = f',"{name}":{_encode(value)}'

    def render(self, batch: Batch) -> str:
        if self.facts is None:
            entries = ENTRIES.validate_python(self._batch_entries(batch))
        else:  # probed: every entry through entries(), which adds the metadata
            entries = ENTRIES.validate_python([entry for item in batch.items for entry in self.entries(item)])
        if self.target.format == "csv":
            return render_csv(entries)
        return render_json(entries, self.target.skip_duplicate_urls, self.target.client_metadata)

    def _batch_entries(self, batch: Batch) -> list[Entry]:
        """:meth:`entries` of every item of ``batch``, lone files (most items) built inline.

        The same entries as :meth:`entries` gives; the lone file's case is repeated here because a method call
        and a list per item cost as much as building the entry.
        """
        link = self.linker.link
        built: list[Entry] = []
        for item in batch.items:
            if item.layout is Layout.FILE:
                obj = item.series[0].objects[0]
                section, single = _SINGLE_FILE[item.kinds]
                key = obj.key  # title_of(key), its common case inline (millions of entries)
                built.append(
                    {
                        "section": section,
                        "title": key if len(key) <= MAX_TITLE and key[-17:-16] != _MARK else title_of(key),
                        "urls": [link(obj)],
                        "single": single,
                        "create_video": None,
                    }
                )
            else:
                built.extend(self.entries(item))
        return built


def _title(item: Item, series: str) -> str:
    base = item.id[1:]  # one "/" only: a path may start with "/" itself
    return title_of(base if len(item.series) == 1 else f"{base}/{series}")


_quote = json.encoder.encode_basestring  # the C string escaper json itself uses (ensure_ascii=False)


def render_json(entries: list[Entry], skip_duplicate_urls: bool, metadata: dict[str, Any] | None = None) -> str:
    """The JSON spec: entries grouped by section, groups numbered ``objectUrl_0``, ``objectUrl_1``, ...

    Written straight from the validated entries as text (strings through json's own escaper): a plan renders
    millions of entries, and building a dict per entry only to serialise it was a third of Encord's plan time.
    """
    meta = f',"clientMetadata":{_encode(metadata)}' if metadata is not None else ""
    sections: dict[str, list[str]] = {}
    for entry in entries:
        urls = entry["urls"]
        if entry["single"]:
            probed = entry.get("metadata", "")
            text = f'{{"objectUrl":{_quote(urls[0])},"title":{_quote(entry["title"])}{probed}{meta}}}'
        else:
            video = entry["create_video"]
            flag = "" if video is None else f',"createVideo":{"true" if video else "false"}'
            numbered = ",".join([f'"objectUrl_{n}":{_quote(url)}' for n, url in enumerate(urls)])
            text = f'{{"title":{_quote(entry["title"])}{flag},{numbered}{meta}}}'
        sections.setdefault(entry["section"], []).append(text)
    parts = [f'"{section}":[{",".join(texts)}]' for section, texts in sections.items()]
    if skip_duplicate_urls:
        parts.append('"skip_duplicate_urls":true')
    return "{" + ",".join(parts) + "}"


_CSV_TITLES: dict[Section, str] = {
    "videos": "Video title",
    "images": "Image title",
    "image_groups": "Image group title",
    "dicom_series": "Series title",
    "nifti_files": "NIfTI title",
}


def render_csv(entries: list[Entry]) -> str:
    """One row per file, in one header block per data type (the order of first appearance).

    Encord starts a new block with a header line at each change of type; gathering a batch's rows by type, as
    the JSON spec groups its sections, keeps that to five blocks at most however the types interleave.

    Rows are written as text: the csv writer cost about a microsecond more per row than the JSON spec's
    rendering, which made Encord CSV the slowest plan. The text is what the csv writer writes whenever no field
    holds a delimiter, quote or line break (it quotes nothing else). Counting those characters in the finished
    document checks that in one pass: each row has exactly ``fields - 1`` separating commas and one newline, so
    any comma or newline inside a field shows as a surplus. A batch with such a field, a quote or a carriage
    return (which some Python versions quote) goes through the csv writer instead, so quoting stays the csv
    module's own and the output is byte-identical either way.
    """
    with_create_video = any(entry["section"] == "image_groups" for entry in entries)
    blocks: dict[Section, list[str]] = {}
    for entry in entries:
        section = entry["section"]
        lines = blocks.get(section)
        if lines is None:
            lines = blocks[section] = []
        if with_create_video:
            tail = f",{entry['title']},{'true' if entry['create_video'] else 'false'}\n"
        else:
            tail = f",{entry['title']}\n"
        urls = entry["urls"]
        if len(urls) == 1:
            lines.append(urls[0] + tail)
        else:
            lines.extend([url + tail for url in urls])
    extra = ",Create video\n" if with_create_video else "\n"
    text = "".join([f"ObjectUrl,{_CSV_TITLES[section]}{extra}{''.join(lines)}" for section, lines in blocks.items()])
    rows = len(blocks) + sum(len(lines) for lines in blocks.values())
    separators = 2 if with_create_video else 1
    if text.count("\n") == rows and text.count(",") == rows * separators and '"' not in text and "\r" not in text:
        return text
    return _render_csv_with_writer(entries, with_create_video)


def _render_csv_with_writer(entries: list[Entry], with_create_video: bool) -> str:
    """:func:`render_csv` through the csv writer: for batches with a field that needs (or might need) quoting.

    A row with a carriage return in a field is written fully quoted: Python's writer (before 3.13) leaves a
    lone ``\\r`` unquoted when the line terminator is ``\\n``, and every CSV reader takes it for a line end.
    """
    extra = ("Create video",) if with_create_video else ()
    blocks: dict[Section, list[tuple[str, ...]]] = {}
    for entry in entries:
        section, title = entry["section"], entry["title"]
        rows = blocks.get(section)
        if rows is None:
            rows = blocks[section] = [("ObjectUrl", _CSV_TITLES[section], *extra)]
        if with_create_video:
            flag = "true" if entry["create_video"] else "false"
            rows.extend([(url, title, flag) for url in entry["urls"]])
        else:
            rows.extend([(url, title) for url in entry["urls"]])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for rows in blocks.values():
        for row in rows:
            (quoted if any("\r" in field for field in row) else writer).writerow(row)
    return out.getvalue()
