"""The plan's media stage: probe objects (and make Darwin's thumbnails and frame sets) on their way into a plan.

What the CLI and the plan operator share when probing is on: :func:`plan_media` builds the manifests builder
and the object stream, :class:`MediaStage` fills a :class:`~airflow_ingest.core.probed.FactsWindow` with
each object's facts (:func:`media_facts`) before the builder reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.media import MediaKind, media_kind
from airflow_ingest.core.media_info import ProbeError
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.plan import ManifestBuilder
from airflow_ingest.core.probed import Facts, FactsWindow, ProbedManifests
from airflow_ingest.core.thumbnails import DerivedKeys
from airflow_ingest.core.urls import Source
from airflow_ingest.media.cache import ProbeCache, default_cache_folder, probe_cache_folder
from airflow_ingest.media.pool import bounded_map
from airflow_ingest.media.probing import Prober
from airflow_ingest.media.proxy import RangeProxy, VideoAccess
from airflow_ingest.media.results import Probed, ThumbnailResult, VideoFrames
from airflow_ingest.media.thumbnails import frames_one, thumbnail_one
from airflow_ingest.storage.base import Storage, storage_for


@dataclass(slots=True)
class MediaStats:
    """What the media stage did, for logs and the plan summary."""

    probed: int = 0
    cached: int = 0
    failed: int = 0
    bytes_fetched: int = 0
    thumbnails: int = 0
    frame_sets: int = 0
    derived_dropped: int = 0

    def to_json(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


class MediaStage:
    """Probe (and with ``thumbnails``, make thumbnails and frame sets for) objects on their way into the plan.

    ``stage(objects)`` yields the same objects in the same order, each after its facts are in ``window`` (see
    :class:`~airflow_ingest.core.probed.FactsWindow`); a bounded number are in flight on ``workers``
    threads. Nothing here raises for one object: a failed probe or thumbnail becomes the object's ``failure``
    fact (Darwin read-only skips the item with it; Encord leaves the metadata out). With ``thumbnails``, objects
    that the key templates say are derived files (our own thumbnails and frames) are dropped from the stream
    and counted, so a run over a bucket holding them does not register them as images.
    """

    def __init__(
        self,
        store: Storage,
        window: FactsWindow,
        *,
        cache: ProbeCache | None = None,
        thumbnails: DerivedKeys | None = None,
        workers: int = 4,
        max_frames: int = 1000,
        frame_fps: float | None = None,
        video_access: VideoAccess = "proxy",
    ) -> None:
        if max_frames < 1:
            raise ConfigError("max_frames", max_frames, "extract at least one frame")
        if workers < 1:
            raise ConfigError("probe_workers", workers, "use 1 or more threads")
        self.store = store
        self.window = window
        self.cache = cache
        self.keys = thumbnails
        self.workers = workers
        self.max_frames = max_frames
        self.frame_fps = frame_fps
        self.video_access = video_access
        self.stats = MediaStats()

    def __call__(self, objects: Iterable[StoredObject]) -> Iterator[StoredObject]:
        with RangeProxy() as proxy:
            prober = Prober(self.store, proxy, video_access=self.video_access, cache=self.cache)

            def one(obj: StoredObject) -> tuple[StoredObject, Probed | None, ThumbnailResult | VideoFrames | None]:
                kind = media_kind(obj.key)
                if kind is None:  # the plan skips it with its reason; nothing to probe
                    return obj, None, None
                probed = prober(obj)
                made: ThumbnailResult | VideoFrames | None = None
                if self.keys is not None and probed.ok and kind in (MediaKind.IMAGE, MediaKind.VIDEO):
                    if kind is MediaKind.VIDEO:
                        made = frames_one(
                            obj,
                            self.store,
                            self.keys,
                            proxy,
                            max_frames=self.max_frames,
                            fps=self.frame_fps,
                            video_access=self.video_access,
                        )
                    else:
                        made = thumbnail_one(obj, self.store, self.keys, proxy, video_access=self.video_access)
                return obj, probed, made

            for obj, probed, made in bounded_map(one, self._without_derived(objects), self.workers):
                if probed is not None:
                    self._record(probed, made)
                yield obj

    def _without_derived(self, objects: Iterable[StoredObject]) -> Iterator[StoredObject]:
        keys = self.keys
        for obj in objects:
            if keys is not None and keys.owns(obj.key):
                self.stats.derived_dropped += 1
                continue
            yield obj

    def _record(self, probed: Probed, made: ThumbnailResult | VideoFrames | None) -> None:
        stats = self.stats
        stats.probed += 1
        stats.cached += probed.cached
        stats.bytes_fetched += probed.bytes_fetched
        if self.cache is not None:
            self.cache.put(probed)
        facts = media_facts(probed, made)
        if "failure" in facts:
            stats.failed += 1
        elif isinstance(made, VideoFrames):
            stats.frame_sets += 1
        elif made is not None:
            stats.thumbnails += 1
        self.window.add(probed.obj, facts)


def plan_media(
    build: Callable[[Facts], ManifestBuilder],
    source: Source,
    objects: Iterable[StoredObject],
    *,
    conn_id: str | None = None,
    thumbnails: DerivedKeys | None = None,
    cache_folder: str | Path | None = None,
    workers: int = 4,
    max_frames: int = 1000,
) -> tuple[ManifestBuilder, Iterator[StoredObject], MediaStage]:
    """The builder and object stream for a plan with probing on: what the CLI and the plan operator share.

    ``build`` is the platform's builder over the probed facts (the caller, which knows the platform, binds its
    target). With ``thumbnails`` (the platform's derived keys: V7 Darwin read-only's) thumbnails and frame sets
    are also written where the keys say. The probe cache is ``cache_folder``, else :func:`default_cache_folder`.
    """
    window = FactsWindow()
    builder = ProbedManifests(build(window), window)
    folder = probe_cache_folder(cache_folder) if cache_folder else default_cache_folder(source)
    stage = MediaStage(
        storage_for(source, conn_id),
        window,
        cache=ProbeCache(folder),
        thumbnails=thumbnails,
        workers=workers,
        max_frames=max_frames,
    )
    return builder, stage(objects), stage


def media_facts(probed: Probed, made: ThumbnailResult | VideoFrames | None = None) -> dict[str, Any]:
    """The facts the manifests read (see :data:`airflow_ingest.core.darwin.MediaFacts`) from a probe and the
    files made for it."""
    info = probed.info
    if info is None:
        return {"failure": f"could not be probed: {probed.failure}"}
    facts: dict[str, Any] = {"mime": info.mime}
    shown = info.display_size
    if shown is not None:
        facts["width"], facts["height"] = shown
    for name in ("frames", "fps"):
        value = getattr(info, name)
        if value:
            facts[name] = value
    if info.dicom is not None:
        facts["dicom"] = info.dicom
    try:
        if info.kind is MediaKind.IMAGE:
            facts["image_metadata"] = info.encord_image_metadata()
        elif info.kind is MediaKind.VIDEO:
            facts["video_metadata"] = info.encord_video_metadata()
    except ProbeError:
        pass  # Encord goes without; Darwin finds width/height missing and says so
    if made is not None:
        if not made.ok:
            facts["failure"] = f"no thumbnail: {made.failure}"
        elif isinstance(made, VideoFrames):
            facts["thumbnail"] = made.thumbnail_key
            facts["sections"] = [
                {
                    "section_index": s.index,
                    "height": s.height,
                    "width": s.width,
                    "storage_hq_key": s.hq_key,
                    "storage_lq_key": s.lq_key,
                }
                for s in made.sections
            ]
        else:
            facts["thumbnail"] = made.key
    return facts
