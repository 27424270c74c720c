"""RedBrick AI items lists, exactly as RedBrick documents them (``shared/seeds``).

A task is ``{"name", "series": [{"items": [...]}]}`` (or the legacy flat ``{"name", "items": [...]}``,
which RedBrick splits into series itself). ``items`` lists a series' files in order (DICOM instances,
video frames), and is a single string when the series is one file (a NIfTI volume, one scan), as every
one-file example in RedBrick's guide writes it; a NIfTI volume or a video file is always a series of its
own ("``items`` must be a single string for NIfTI"), so no series lists several of them. The items path
follows the storage method: the key relative to the bucket (or container) for an external S3, GCS or Azure
storage method, the full URL for public storage. Task names must be unique in a project: they are the
item's path, so they are.
"""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import Field, StringConstraints, TypeAdapter
from typing_extensions import NotRequired, TypedDict

from airflow_ingest.core.batching import Batch
from airflow_ingest.core.items import Item, one_kind_no_pdf
from airflow_ingest.core.media import MediaKind, media_kind
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.urls import Linker, dot_segment
from airflow_ingest.platforms.redbrick.target import RedBrickTarget

TASKS_PER_BATCH = 50
"""Tasks per items list (batch). redbrick-sdk 2.28 validated 50 tasks per call; the hook validates a batch in
chunks of at most ``redbrick_results.VALIDATION_CHUNK`` (10) tasks, so a full batch takes five calls."""

_encode = json.JSONEncoder(ensure_ascii=False).encode


_PATH = Annotated[str, StringConstraints(min_length=1)]


class RedBrickSeries(TypedDict):
    items: _PATH | Annotated[list[_PATH], Field(min_length=1)]


class RedBrickTask(TypedDict):
    """A task in the series form (``series``) or the flat form (``items``)."""

    name: Annotated[str, StringConstraints(min_length=1)]
    series: NotRequired[Annotated[list[RedBrickSeries], Field(min_length=1)]]
    items: NotRequired[Annotated[list[_PATH], Field(min_length=1)]]


TASKS = TypeAdapter(list[RedBrickTask])
"""Validates a whole batch's tasks at once in pydantic-core."""


class RedBrickManifests:
    """Builds one items list per batch (see :func:`make_plan`)."""

    platform = "redbrick"
    suffix = ".json"

    def __init__(self, target: RedBrickTarget) -> None:
        self.target = target
        self.linker = Linker(target.url_style, target.region, target.account)

    def refuse(self, item: Item) -> str | None:
        """Why RedBrick cannot take ``item`` (tasks hold images, videos, DICOM or NIfTI), or None.

        With public storage the items are URLs, and a key with a ``.`` or ``..`` segment has no URL that
        fetches it (clients resolve the segment and fetch another object).
        """
        if self.target.public:
            for obj in item.objects:
                problem = dot_segment(obj.key)
                if problem is not None:
                    return f"has a key with {problem} ({obj.key!r}): no URL fetches it as it is"
        return one_kind_no_pdf(item, "a RedBrick task")

    def entries_of(self, item: Item) -> int:
        return 1

    def path(self, obj: StoredObject) -> str:
        return self.linker.link(obj) if self.target.public else obj.key

    def task(self, item: Item) -> RedBrickTask:
        """The item's task: its series in order, a NIfTI volume or a video file always a series of its own.

        RedBrick's guide: "``items`` must be a single string for NIfTI uploads", and a series is "a single
        volume, image, or video" (a list of ``items`` is a DICOM series' instances or a video's frames). So a
        folder (or a study's series folder) holding several volumes or video files becomes one task with one
        series per file, as the guide's NIfTI Study example writes it. The flat form lists NIfTI volumes
        as they are (RedBrick takes "each of the NIfTI files in the items array" as a series of its own) but
        has no way to list several videos, so such a task is written in the series form.
        """
        name = item.id.removeprefix("/")  # ids start with "/"; a key may start with "/" too, so only one goes
        objects = item.objects
        if self.target.form == "flat" and not (len(objects) > 1 and any(_is_video(o) for o in objects)):
            return {"name": name, "items": [self.path(o) for o in objects]}
        series: list[RedBrickSeries] = []
        for part in item.series:
            if len(part.objects) > 1 and any(_one_file_series(o) for o in part.objects):
                series += [{"items": self.path(o)} for o in part.objects]
                continue
            paths = [self.path(o) for o in part.objects]
            series.append({"items": paths[0] if len(paths) == 1 else paths})
        return {"name": name, "series": series}

    def render(self, batch: Batch) -> str:
        return _encode(TASKS.validate_python([self.task(item) for item in batch.items]))


_ONE_FILE_KINDS = frozenset({MediaKind.NIFTI, MediaKind.VIDEO})


def _one_file_series(obj: StoredObject) -> bool:
    """A NIfTI volume or a video file: a series on its own, never one path of a list."""
    return media_kind(obj.key) in _ONE_FILE_KINDS


def _is_video(obj: StoredObject) -> bool:
    return media_kind(obj.key) is MediaKind.VIDEO
