"""The items-list rules the fake RedBrick checks in ``validateAndConvertToImportFormat``, one function per rule.

From RedBrick's items-list guide (``shared/seeds/000_*``, "Import Cloud Data") and upload page (``001_*``),
read independently of ``airflow_ingest``; each rule's docstring quotes or names its source.

- A task has a non-empty ``name`` ("unique for each datapoint"; uniqueness is per *project*, so the fake checks
  it when creating tasks, not within one validation call: redbrick-sdk itself drops repeated names only after
  validation, which would be pointless if RedBrick refused them there).
- A task gives exactly one of ``series`` (a non-empty list of ``{items: str | [str]}``) or the legacy flat
  ``items`` (a non-empty list of paths); a series' ``items`` list is non-empty.
- NIfTI: "``items`` must be a single string for NIfTI uploads": in a series, a ``.nii``/``.nii.gz`` path
  only ever stands alone as a string (the flat form lists volumes, each of which "RedBrick AI will assume ...
  is an individual series").
- Video: "A single series represents a single volume, image, or video" (redbrick-sdk's ``Series``), and a
  list of ``items`` is a video's *frames* ("The frames must be in the correct order"): a video file is a
  series of its own, a single string, never one path among others (in a series or a flat task).
- Items paths follow the storage method: full ``http(s)`` URLs for public storage, keys relative to the
  bucket for an external storage method (the guide's ``items path`` sections).
- Fields: those RedBrick's docs show (``name``, ``series``, ``items``, ``labels``) and those redbrick-sdk's
  ``InputTask``/``Series`` types declare; anything else is refused (stricter than the docs, which do not
  list every field: it catches our own typos, and no SDK flow sends another field).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

PUBLIC_STORAGE = "11111111-1111-1111-1111-111111111111"

TASK_FIELDS = frozenset(
    {"name", "series", "items", "labels", "classification", "priority", "metaData", "preAssign", "attributes"}
    # fields of the legacy flat form that the SDK's docs show next to ``items``
    | {"segmentations", "segmentMap", "heatMaps", "transforms", "centerline"}
)
SERIES_FIELDS = frozenset(
    {"name", "items", "metaData", "imageHeaders", "segmentations", "segmentMap", "heatMaps", "transforms"}
    | {"centerline", "binaryMask", "semanticMask", "pngMask", "landmarks", "measurements", "ellipses"}
    | {"boundingBoxes", "cuboids", "polygons", "polylines", "classifications", "instanceClassifications"}
)
SERIES_INFO_FIELDS = frozenset(
    {"name", "itemsIndices", "dataType", "metaData", "imageHeaders", "numFrames", "frameRate"}
)
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".hevc")


def _file_name(path: str) -> str:
    return (urlsplit(path).path if "://" in path else path).rsplit("/", 1)[-1].lower()


def is_nifti(path: str) -> bool:
    return _file_name(path).endswith((".nii", ".nii.gz"))


def is_video(path: str) -> bool:
    return _file_name(path).endswith(VIDEO_SUFFIXES)


def path_problem(path: object, storage_id: str, bad_items: dict[str, str]) -> str | None:
    """Why RedBrick would refuse an items path for this storage method, or None."""
    if not isinstance(path, str) or not path:
        return "items paths must be non-empty strings"
    if storage_id == PUBLIC_STORAGE:
        if not re.match(r"^https?://[^/]+/", path):
            return f"{path!r} is not a URL; public storage takes full http(s) URLs"
    elif "://" in path:
        return f"{path!r} is a URL; external storage takes paths relative to the bucket"
    elif path.startswith("/"):
        return f"{path!r} starts with '/'; items paths are relative to the bucket"
    for pattern, reason in bad_items.items():
        if re.search(pattern, path):
            return f"{path!r}: {reason}"
    return None


def series_problem(items: object) -> str | None:
    """Why one series' ``items`` is not a documented form (a path string, or a list of frames/instances)."""
    if isinstance(items, str):
        return None
    if not isinstance(items, list) or not items:
        return "a series' items is a path or a non-empty list of paths"
    for path in items:
        if isinstance(path, str) and is_nifti(path):
            return f"{path!r} is NIfTI: items must be a single string for NIfTI (one volume per series)"
        if isinstance(path, str) and is_video(path):
            return f"{path!r} is a video: a video is a series of its own, items a single string"
    return None


def flat_problem(items: object) -> str | None:
    """Why a flat task's ``items`` is not a documented form (DICOM instances, NIfTI volumes, frames)."""
    if not isinstance(items, list) or not items:
        return "items must be a non-empty list"
    videos = [p for p in items if isinstance(p, str) and is_video(p)]
    if videos and len(items) > 1:
        return f"{videos[0]!r} is a video among {len(items)} items: a video file is a task's only item"
    return None


def check_task(position: int, task: object, storage_id: str, bad_items: dict[str, str]) -> str | None:
    """The first reason RedBrick's validator would give for this task, or None."""
    if not isinstance(task, dict):
        return f"Task {position}: not an object"
    label = f"Task {position} ({task.get('name')!r})"
    unknown = sorted(set(task) - TASK_FIELDS)
    if unknown:
        return f"{label}: unknown field(s) {', '.join(unknown)}"
    if not isinstance(task.get("name"), str) or not task["name"]:
        return f"{label}: name must be a non-empty string"
    if ("series" in task) == ("items" in task):
        return f"{label}: give exactly one of series or items"
    paths: list[object] = []
    if "series" in task:
        series = task["series"]
        if not isinstance(series, list) or not series:
            return f"{label}: series must be a non-empty list"
        for part in series:
            if not isinstance(part, dict) or set(part) - SERIES_FIELDS or "items" not in part:
                return f"{label}: each series is an object with items (and the Series fields of the SDK)"
            problem = series_problem(part["items"])
            if problem:
                return f"{label}: {problem}"
            paths += part["items"] if isinstance(part["items"], list) else [part["items"]]
    else:
        problem = flat_problem(task["items"])
        if problem:
            return f"{label}: {problem}"
        paths += task["items"]
    for path in paths:
        problem = path_problem(path, storage_id, bad_items)
        if problem:
            return f"{label}: {problem}"
    return None


def convert(task: dict[str, Any]) -> dict[str, Any]:
    """The import format ``createDatapoint`` takes: flat ``items`` and per-series ``itemsIndices``."""
    if "items" in task:
        return {"name": task["name"], "items": list(task["items"])}
    items: list[str] = []
    info: list[dict[str, Any]] = []
    for part in task["series"]:
        paths = part["items"] if isinstance(part["items"], list) else [part["items"]]
        entry: dict[str, Any] = {"itemsIndices": list(range(len(items), len(items) + len(paths)))}
        if part.get("name"):
            entry["name"] = part["name"]
        items += paths
        info.append(entry)
    return {"name": task["name"], "items": items, "seriesInfo": info}
