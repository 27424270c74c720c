"""Items: what the platform sees as one unit of annotation work, made of one or more stored objects.

Layouts decide how objects become items:

- ``file``: every supported object is one item, named after its file.
- ``folder``: the files directly in one folder are one item (a DICOM series, an image group or sequence,
  video frames, a multi-slot item), in natural order (``2.png`` before ``10.png``); a file at the bucket
  root, with no folder to group by, is an item of its own.
- ``study``: every first-level folder under the prefix is one item; each of its sub-folders is a series
  (with every file below it) and each file directly in it is a series of its own.

The listing arrives in key order, so the layouts group in one pass: a folder's item is emitted as soon as
the listing has left that folder, and memory holds only the items still open. Objects of unsupported
types, and objects a layout cannot place, become :class:`Skipped` entries with a reason: nothing is
dropped silently. Item identities (``folder`` + ``name``) come from the keys, so they are unique within a
run and stable across runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.media import SUPPORTED_SUFFIXES, MediaKind, media_kind
from airflow_ingest.core.objects import StoredObject


class Layout(str, Enum):
    FILE = "file"
    FOLDER = "folder"
    STUDY = "study"


@dataclass(slots=True)
class Series:
    """An ordered run of files inside an item: a DICOM series, a video's frames, one NIfTI volume."""

    name: str
    objects: tuple[StoredObject, ...]


@dataclass(slots=True)
class Item:
    """One platform item.

    ``folder`` is where it sits in the platform's tree (always starts with ``/``) and ``name`` its name
    there. ``kinds`` holds the media kinds of its files; most items have one, and each platform decides
    what a mix means (V7 puts each file in a slot of its own; Encord and RedBrick refuse a mix).
    """

    name: str
    folder: str
    kinds: frozenset[MediaKind]
    series: tuple[Series, ...]
    layout: Layout = Layout.FILE
    path: str | None = None
    """The key (one file) or folder path (a group) the item stands for, exactly as stored; None only for items
    built by hand, whose identity then comes from ``folder`` and ``name``."""

    @property
    def single(self) -> bool:
        """A lone file (the ``file`` layout), as opposed to a group that happens to hold one file."""
        return self.layout is Layout.FILE

    @property
    def id(self) -> str:
        """The item's identity in reports and ledgers: ``/`` and its key or folder path, exactly.

        Exactly, not rebuilt from ``folder`` and ``name``: ``a//b.jpg``, ``/a/b.jpg`` and ``a/b.jpg`` are three
        objects, so they are three ids (a platform that would file them as one refuses the odd ones).
        """
        if self.path is not None:
            return "/" + self.path
        return f"{self.folder.rstrip('/')}/{self.name}"

    @property
    def objects(self) -> tuple[StoredObject, ...]:
        if len(self.series) == 1:
            return self.series[0].objects
        return tuple(obj for series in self.series for obj in series.objects)

    @property
    def kind(self) -> MediaKind:
        """The single kind of a uniform item; a mixed one raises, so callers must ask ``kinds`` first."""
        if len(self.kinds) != 1:
            raise ValueError(f"item {self.id} mixes {sorted(k.value for k in self.kinds)}")
        return next(iter(self.kinds))

    @property
    def size(self) -> int:
        if self.single:
            return self.series[0].objects[0].size
        return sum(obj.size for series in self.series for obj in series.objects)


@dataclass(slots=True)
class Skipped:
    """An object that becomes no item, and why."""

    object: StoredObject
    reason: str


UNSUPPORTED = f"unsupported file type; supported suffixes: {' '.join(SUPPORTED_SUFFIXES)}"


_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[object, ...]:
    """Sort ``2.png`` before ``10.png``: digit runs compare as numbers, the rest case-insensitively.

    The split's odd parts are exactly the decimal runs (``\\d`` is Unicode's decimal digits, which ``int``
    reads), so the key alternates text and numbers and always compares; ``²`` is a digit to ``str.isdigit``
    but not a decimal, so it stays text. Ties (``A.png`` and ``a.png``) fall back to the exact text.
    """
    parts: list[object] = _DIGITS.split(text)
    for n in range(1, len(parts), 2):
        parts[n] = int(str(parts[n]))
    for n in range(0, len(parts), 2):
        parts[n] = str(parts[n]).lower()
    return (tuple(parts), text)


def parse_layout(value: str) -> Layout:
    try:
        return Layout(value)
    except ValueError:
        raise ConfigError("layout", value, f"use one of {', '.join(layout.value for layout in Layout)}") from None


def make_items(objects: Iterable[StoredObject], layout: Layout | str, prefix: str = "") -> Iterator[Item | Skipped]:
    """Group ``objects`` (in key order) into items with ``layout``; ``prefix`` is the listing's prefix."""
    chosen = parse_layout(layout) if isinstance(layout, str) else layout
    if chosen is Layout.FILE:
        return _file_items(objects)
    supported = _supported(objects)
    if chosen is Layout.FOLDER:
        return _grouped(supported, _parent_folder, _folder_item, None)
    outside = "not inside a study folder: with the study layout every file needs one under the prefix"
    return _grouped(supported, lambda obj: _study_folder(obj, prefix), _study_item, outside)


def _supported(objects: Iterable[StoredObject]) -> Iterator[tuple[StoredObject, MediaKind] | Skipped]:
    for obj in objects:
        kind = media_kind(obj.key)
        yield Skipped(obj, UNSUPPORTED) if kind is None else (obj, kind)


_ONE_KIND = {kind: frozenset({kind}) for kind in MediaKind}


def _file_items(objects: Iterable[StoredObject]) -> Iterator[Item | Skipped]:
    """One item per supported file: the hottest loop of a plan, so it does the least it can per object."""
    for obj in objects:
        kind = media_kind(obj.key)
        if kind is None:
            yield Skipped(obj, UNSUPPORTED)
            continue
        folder, _, name = obj.key.rpartition("/")
        yield Item(name, "/" + folder, _ONE_KIND[kind], (Series(name, (obj,)),), Layout.FILE, obj.key)


Group = list[tuple[StoredObject, MediaKind]]


def _grouped(
    entries: Iterable[tuple[StoredObject, MediaKind] | Skipped],
    group_of: Callable[[StoredObject], str | None],
    build: Callable[[str, Group], Item],
    homeless: str | None,
) -> Iterator[Item | Skipped]:
    """Group entries by a folder path, closing a group when the key-ordered stream leaves its folder.

    Open groups always form a chain of nested folders (a stack): a folder's own files can be interleaved
    with its sub-folders' in key order, so a group closes only when the stream moves outside it.
    """
    stack: list[tuple[str, Group]] = []
    for entry in entries:
        if isinstance(entry, Skipped):
            yield entry
            continue
        folder = group_of(entry[0])
        if folder is None:
            # A file with no folder to group by: one item of its own (folder layout) or a reason (study).
            yield from _file_items([entry[0]]) if homeless is None else [Skipped(entry[0], homeless)]
            continue
        while stack and not _within(folder, stack[-1][0]):
            yield from _close(build, *stack.pop(), homeless is None)
        if stack and stack[-1][0] == folder:
            stack[-1][1].append(entry)
        else:
            stack.append((folder, [entry]))
    while stack:
        yield from _close(build, *stack.pop(), homeless is None)


EMPTY_NAME = "its study folder has an empty name (the key starts with '/'): no platform can name an item ''"
LIKE_A_FILE = (
    "is in a folder named like a file at the bucket root, where files are items of their own: its item would have "
    "the same name as that file's; rename the folder or use the study layout"
)


def _close(
    build: Callable[[str, Group], Item], folder: str, group: Group, roots_are_items: bool
) -> Iterator[Item | Skipped]:
    """The group's item, unless it could share its identity with a file's item (folder layout, at the root).

    Where root files are items of their own, a root folder named ``x.jpg`` would make an item named like the
    file ``x.jpg``: one item to V7 (path and name), Encord (title) and RedBrick (task name). Decided from the
    folder's name alone, so the same in every run whatever the ledger left out of the listing.
    """
    if not folder:  # a study folder before a leading "/": nothing to name the item by
        for obj, _ in group:
            yield Skipped(obj, EMPTY_NAME)
        return
    if roots_are_items and "/" not in folder and media_kind(folder) is not None:
        for obj, _ in group:
            yield Skipped(obj, f"{LIKE_A_FILE} ({folder!r})")
        return
    yield build(folder, group)


def _within(folder: str, ancestor: str) -> bool:
    return folder == ancestor or folder.startswith(ancestor + "/")


def _parent_folder(obj: StoredObject) -> str | None:
    parent, slash, _ = obj.key.rpartition("/")
    return parent if slash and parent else None


def _study_folder(obj: StoredObject, prefix: str) -> str | None:
    base = prefix if prefix.endswith("/") or not prefix else prefix.rpartition("/")[0] + "/"
    if base == "/":
        base = ""
    rest = obj.key[len(base) :] if obj.key.startswith(base) else obj.key
    first, slash, _ = rest.partition("/")
    return base + first if slash else None


def _split(path: str) -> tuple[str, str]:
    parent, _, name = path.rpartition("/")
    return "/" + parent, name


def _folder_item(folder: str, group: Group) -> Item:
    parent, name = _split(folder)
    ordered = sorted(group, key=lambda entry: natural_key(entry[0].key.rpartition("/")[2]))
    return Item(
        name=name,
        folder=parent,
        kinds=frozenset(kind for _, kind in ordered),
        series=(Series(name, tuple(obj for obj, _ in ordered)),),
        layout=Layout.FOLDER,
        path=folder,
    )


def _study_item(study: str, group: Group) -> Item:
    parent, name = _split(study)
    series: dict[tuple[str, bool], Group] = {}  # (name, is a sub-folder): a file and a folder may share a name
    for obj, kind in group:
        rest = obj.key[len(study) + 1 :]
        head, slash, _ = rest.partition("/")
        series.setdefault((head, True) if slash else (rest, False), []).append((obj, kind))
    built = []
    for series_name, is_folder in sorted(series, key=lambda named: (natural_key(named[0]), named[1])):
        members = sorted(series[series_name, is_folder], key=lambda entry: natural_key(entry[0].key[len(study) + 1 :]))
        if is_folder and (series_name, False) in series:  # sub-folder x.jpg/ beside the file x.jpg: keep both apart
            series_name += "/"
        built.append(Series(series_name, tuple(obj for obj, _ in members)))
    kinds = frozenset(kind for _, kind in group)
    return Item(name=name, folder=parent, kinds=kinds, series=tuple(built), layout=Layout.STUDY, path=study)


def reorder_dicom(item: Item, key: Callable[[StoredObject], tuple[object, ...]]) -> None:
    """Re-sort each all-DICOM series of ``item`` by ``key``, in place (header order, once probed).

    Grouping sorts by file name (natural order) because the listing knows nothing else; with probing on, the
    plan calls this as each item passes, so slices follow their headers as V7 orders them. In place because the
    item is already on its way through the plan (batching and the index read the same object).
    """
    for series in item.series:
        if len(series.objects) > 1 and all(media_kind(o.key) is MediaKind.DICOM for o in series.objects):
            series.objects = tuple(sorted(series.objects, key=key))


def one_kind_no_pdf(item: Item, holder: str) -> str | None:
    """Why a platform whose ``holder`` takes one data type, and no PDFs or audio, cannot take ``item``; or None."""
    if len(item.kinds) != 1:
        return f"mixes {', '.join(sorted(k.value for k in item.kinds))}; {holder} holds one data type"
    (kind,) = item.kinds
    if kind is _PDF:
        return f"PDF: {holder} cannot hold a PDF"
    if kind is _AUDIO:
        return f"audio: {holder} cannot hold audio"
    return None


_PDF, _AUDIO = MediaKind.PDF, MediaKind.AUDIO
"""Compared by identity: ``MediaKind.X`` and an enum member's hash (what ``in`` asks) are Python calls on 3.11,
and this runs once per item of a plan."""
