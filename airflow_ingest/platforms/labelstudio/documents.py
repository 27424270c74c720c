"""Label Studio tasks JSON: one task per item, its ``data`` pointing at the object by its cloud URL.

Label Studio resolves ``s3://bucket/key``, ``gs://bucket/key`` and ``azure-blob://container/blob`` in a task's
data through the project's source storage for that bucket, exactly as its own storage sync writes them (the key
raw, not encoded). It parses them with ``urlparse(url, allow_fragments=False)``, takes the path without its
leading slashes, and strips whitespace around the value first, so a key is refused here (with the reason) when
that parsing would name another object: a ``?`` (read as a query), a leading ``/``, whitespace at the end, a tab
or line break (dropped by URL parsing), a dot segment (browsers resolve it). For Azure it also writes the blob
name into the signed URL unencoded, so ``%``, ``#`` and ``\\`` cannot travel either.

Label Studio does not deduplicate imports, so every task carries a marker in ``data["airflow_ingest"]``: a hash
of the bucket and the item's path. Registration looks tasks up by it before sending (and after an answer is
lost), which is what makes a re-run or a retry create nothing twice. ``meta`` keeps the item's id and kind.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from airflow_ingest.core.batching import Batch
from airflow_ingest.core.items import Item
from airflow_ingest.core.media import MediaKind
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.urls import dot_segment
from airflow_ingest.platforms.labelstudio.target import LabelStudioTarget

MARKER = "airflow_ingest"
"""The task ``data`` field (and ``meta`` field) that marks a task as this item's."""

TASKS_PER_IMPORT = 1000
"""Tasks per import request (batch): Label Studio takes far more, but a smaller request is cheap to recheck."""

SCHEMES = {"s3": "s3", "gs": "gs", "az": "azure-blob"}
"""Our URL scheme -> the one Label Studio's storages resolve."""

KIND_KEYS: dict[MediaKind, str] = {MediaKind.IMAGE: "image", MediaKind.VIDEO: "video", MediaKind.PDF: "pdf"}
"""The data key written for a file of each kind Label Studio shows, when the target names none."""
LIST_KEY = "images"
"""The data key written for a folder of images (an ``Image`` tag with ``valueList``)."""

TAG_KINDS: dict[str, MediaKind] = {"image": MediaKind.IMAGE, "video": MediaKind.VIDEO, "pdf": MediaKind.PDF}
"""Labeling config object tags (lower case) -> the kind of file they show from a URL."""

_BREAKS = frozenset("\t\r\n")
_AZURE_UNSAFE = frozenset("%#\\")


def task_url(obj: StoredObject) -> str:
    """``s3://bucket/key``, ``gs://bucket/key`` or ``azure-blob://container/blob``: the key exactly as stored."""
    scheme = obj.url.partition("://")[0]
    return f"{SCHEMES[scheme]}://{obj.container}/{obj.key}"


def marker_of(item: Item) -> str:
    """The item's marker: a hash of where it is (scheme, bucket) and its path, the same in every run."""
    first = item.objects[0]
    where = f"{first.url.partition('://')[0]}://{first.container}\n{item.id}"
    return hashlib.sha256(where.encode("utf-8", errors="surrogatepass")).hexdigest()[:32]


def key_problem(key: str, scheme: str) -> str | None:
    """Why Label Studio would resolve ``key``'s URL to another object (see the module's docstring), or None."""
    if key[:1] == "/":
        return "starts with '/': Label Studio strips leading slashes from the path when it resolves the URL"
    if "?" in key:
        return "holds '?': Label Studio's URL parsing reads the rest as a query and fetches another object"
    if key[-1:].isspace():
        return "ends in whitespace, which Label Studio strips from a task's URL"
    if not _BREAKS.isdisjoint(key):
        return "holds a tab or line break, which URL parsing drops"
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        return "holds a control character, which no URL carries as it is"
    if scheme == "az" and not _AZURE_UNSAFE.isdisjoint(key):
        return "holds '%', '#' or '\\': Label Studio writes Azure blob names into the signed URL unencoded"
    problem = dot_segment(key)
    return f"has {problem}: browsers resolve it and fetch another object" if problem else None


class LabelStudioManifests:
    """Builds one tasks JSON list per batch (see :func:`make_plan`)."""

    platform = "labelstudio"
    suffix = ".json"

    def __init__(self, target: LabelStudioTarget) -> None:
        self.target = target

    def refuse(self, item: Item) -> str | None:
        """Why a Label Studio task cannot hold ``item``, or None."""
        scheme = item.objects[0].url.partition("://")[0]
        if scheme not in SCHEMES:
            return "is a local file: Label Studio resolves only s3://, gs:// and azure-blob:// URLs (cloud storage)"
        if len(item.kinds) != 1:
            return f"mixes {', '.join(sorted(k.value for k in item.kinds))}; a Label Studio task shows one kind"
        kind = next(iter(item.kinds))
        if kind not in KIND_KEYS:
            return f"is {kind.value}: Label Studio has no tag that shows it"
        if len(item.series) > 1:
            return f"has {len(item.series)} series: a Label Studio task holds one file or one list of images"
        if not item.single and kind is not MediaKind.IMAGE:
            return f"is a folder of {kind.value} files: only images go in a list (an Image tag's valueList)"
        for obj in item.objects:
            problem = key_problem(obj.key, scheme)
            if problem is not None:
                return f"has a key that {problem} ({obj.key!r})"
        return None

    def entries_of(self, item: Item) -> int:
        return 1

    def task(self, item: Item) -> dict[str, Any]:
        kind = next(iter(item.kinds))
        listed = not item.single
        key = self.target.data_key or (LIST_KEY if listed else KIND_KEYS[kind])
        value: str | list[str] = [task_url(o) for o in item.objects] if listed else task_url(item.objects[0])
        return {
            "data": {key: value, MARKER: marker_of(item)},
            "meta": {MARKER: {"item": item.id, "kind": kind.value, "list": listed}},
        }

    def render(self, batch: Batch) -> str:
        return json.dumps([self.task(item) for item in batch.items], ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class ObjectTag:
    """A labeling config tag that reads a task field: ``<Image name="img" value="$image"/>`` is
    ``ObjectTag("Image", "image", listed=False, url=True)``."""

    tag: str
    key: str
    listed: bool
    url: bool
    """Whether the tag loads its value as a URL (media tags always; Text and HyperText with valueType="url")."""

    @property
    def kind(self) -> MediaKind | None:
        return TAG_KINDS.get(self.tag.lower())


def object_tags(label_config: str) -> list[ObjectTag]:
    """Every tag of a labeling config that reads a ``$field`` (its ``value`` or ``valueList``), in document order."""
    try:
        root = ElementTree.fromstring(label_config)
    except ElementTree.ParseError:
        return []
    tags = []
    for element in root.iter():
        for attribute, listed in (("value", False), ("valueList", True)):
            value = element.get(attribute, "")
            if value.startswith("$") and len(value) > 1:
                url = element.tag.lower() in TAG_KINDS or element.get("valueType", "").lower() == "url"
                tags.append(ObjectTag(element.tag, value[1:], listed, url))
    return tags


def fit_tasks(
    tasks: Sequence[Mapping[str, Any]], tags: Sequence[ObjectTag], fixed_key: str | None
) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """The tasks as the project's labeling config reads them, and why each one it cannot read is refused.

    With ``fixed_key`` (the target's ``data_key``) the key must be one the config reads, as a list for a folder.
    Without, a task's key is kept when a tag of its kind reads it, else renamed to the one tag of its kind and
    list-ness the config has; none, or several, refuse it with the config's keys in the reason.
    """
    fitted: list[dict[str, Any]] = []
    refused: dict[int, str] = {}
    for number, task in enumerate(tasks):
        data = dict(task["data"])
        info = task.get("meta", {}).get(MARKER, {})
        listed = bool(info.get("list"))
        written = next(k for k in data if k != MARKER)
        reason, key = _fit(written, MediaKind(info.get("kind", "image")), listed, tags, fixed_key)
        if reason is not None:
            refused[number] = reason
            continue
        if key != written:  # renamed in place: the URL stays the first field
            data = {(key if k == written else k): v for k, v in data.items()}
        fitted.append({**task, "data": data})
    return fitted, refused


def _fit(
    written: str, kind: MediaKind, listed: bool, tags: Sequence[ObjectTag], fixed: str | None
) -> tuple[str | None, str]:
    keys = ", ".join(f"${t.key}" for t in tags) or "none"
    shape = f"a list of {kind.value} files (valueList)" if listed else f"a {kind.value} file"
    if fixed is not None:
        matching = [t for t in tags if t.key == fixed]
        if not matching:
            return f"the project's labeling config reads no ${fixed} (its data keys: {keys})", written
        if not any(t.listed == listed and t.url for t in matching):
            return f"the labeling config's ${fixed} does not take {shape} by URL", written
        return None, written
    fitting = [t for t in tags if t.kind is kind and t.listed == listed]
    if any(t.key == written for t in fitting):
        return None, written
    if len(fitting) == 1:
        return None, fitting[0].key
    if not fitting:
        return f"the project's labeling config has no tag that shows {shape} (its data keys: {keys})", written
    several = ", ".join(f"${t.key}" for t in fitting)
    return f"the labeling config has several tags for {shape} ({several}): set the target's data_key", written


def markers(tasks: Iterable[Mapping[str, Any]]) -> list[str]:
    """The marker of each task, in order."""
    return [str(task["data"][MARKER]) for task in tasks]
