"""Thumbnails and video frame sets written next to the originals, for V7 Darwin read-only registration.

The rules (the 356x200 resize, the key templates) live in :mod:`airflow_ingest.core.thumbnails`; frames come
from ffmpeg (:func:`~.tools.extract_frames`). Writes never replace an original: thumbnails and frames are
written create-only (S3 ``If-None-Match: *``, GCS ``if_generation_match=0``, Azure ``overwrite=False``) and
carry the source's etag in object metadata. An existing file with our marker and the same etag is reused;
with our marker and another etag it is replaced (the source changed); without our marker it is left alone
and the object fails with the reason.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.media import MediaKind, media_kind
from airflow_ingest.core.media_info import ProbeError
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.thumbnails import THUMBNAIL_MIME, DerivedKeys, make_thumbnail
from airflow_ingest.media.pool import bounded_map
from airflow_ingest.media.proxy import RangeProxy, VideoAccess, video_source
from airflow_ingest.media.results import Section, ThumbnailResult, VideoFrames, failed
from airflow_ingest.media.tools import extract_frames
from airflow_ingest.storage.base import AlreadyExists, Storage

SOURCE_ETAG = "airflow_ingest_source_etag"  # object metadata naming what a derived file was made from
SOURCE_KEY = "airflow_ingest_source_key"  # Azure metadata names must be identifiers: underscores, no dashes


class _Writer:
    """Writes derived files that carry the source's etag, and replaces only files that carry our marker.

    Two guards, because neither is enough alone: a metadata check before writing (some S3-compatible stores
    and emulators ignore preconditions) and a create-only write (two runs racing for the same new key).
    """

    def __init__(self, store: Storage, obj: StoredObject) -> None:
        self.store = store
        self.obj = obj
        self.written = 0
        self._seen: dict[str, dict[str, str] | None] = {}

    def marker(self) -> dict[str, str]:
        return {SOURCE_ETAG: self.obj.etag, SOURCE_KEY: self.obj.key}

    def current(self, key: str) -> bool:
        """Whether ``key`` holds our file for this very source version (reuse it)."""
        meta = self._seen[key] = self.store.metadata(self.obj.container, key)
        return meta is not None and meta.get(SOURCE_ETAG) == self.obj.etag

    def put(self, key: str, data: bytes, content_type: str) -> None:
        meta = self._seen.pop(key) if key in self._seen else self.store.metadata(self.obj.container, key)
        self._refuse_unless_ours(key, meta)
        try:
            self.store.write(self.obj.container, key, data, content_type, self.marker(), create_only=meta is None)
        except AlreadyExists:  # created since we looked
            self._refuse_unless_ours(key, self.store.metadata(self.obj.container, key))
            self.store.write(self.obj.container, key, data, content_type, self.marker(), create_only=False)
        self.written += len(data)

    @staticmethod
    def _refuse_unless_ours(key: str, meta: dict[str, str] | None) -> None:
        if meta is not None and SOURCE_ETAG not in meta:
            raise ProbeError(
                f"{key!r} already exists and was not written by airflow-ingest; it is left as it is "
                "(choose another thumbnail prefix or template)"
            )


def make_thumbnails(
    objects: Iterable[StoredObject],
    store: Storage,
    *,
    keys: DerivedKeys | None = None,
    workers: int = 4,
    video_access: VideoAccess = "proxy",
    ffmpeg: str = "ffmpeg",
) -> Iterator[ThumbnailResult]:
    """Write (or reuse) Darwin's 356x200 JPEG thumbnail for each image or video, in input order.

    An image is read whole (a thumbnail needs every pixel); a video gives its first frame through ffmpeg.
    DICOM, NIfTI and PDF get a failure result: Darwin's read-only mode takes none of them directly.
    """
    chosen = keys or DerivedKeys()
    with RangeProxy() as proxy:
        yield from bounded_map(
            lambda obj: thumbnail_one(obj, store, chosen, proxy, video_access=video_access, ffmpeg=ffmpeg),
            objects,
            workers,
        )


def thumbnail_one(
    obj: StoredObject,
    store: Storage,
    keys: DerivedKeys,
    proxy: RangeProxy,
    *,
    video_access: VideoAccess = "proxy",
    ffmpeg: str = "ffmpeg",
) -> ThumbnailResult:
    """One object's thumbnail, written or reused (see :func:`make_thumbnails`); never raises for the object."""
    fetched = 0
    writer = _Writer(store, obj)
    try:
        key = keys.thumbnail_key(obj.key)
        if writer.current(key):
            return ThumbnailResult(obj, key, reused=True)
        kind = media_kind(obj.key)
        if kind in (MediaKind.PDF, MediaKind.DICOM, MediaKind.NIFTI):
            raise ProbeError(f"no thumbnail for a {kind.value}: Darwin's read-only mode takes images and videos")
        if kind is not MediaKind.VIDEO:  # an image, or a suffix Darwin does not list (.gif): Pillow decides
            data = store.read_all(obj.container, obj.key)
            fetched = len(data)
            thumb = make_thumbnail(data)
        else:
            source = video_source(store, proxy, obj, video_access)
            with tempfile.TemporaryDirectory(prefix="airflow-ingest-thumb-") as tmp:
                try:
                    frames = extract_frames(source, Path(tmp), max_frames=1, ffmpeg=ffmpeg)
                finally:
                    fetched = proxy.fetched(source)
                thumb = make_thumbnail(frames[0].hq)
        writer.put(key, thumb.data, THUMBNAIL_MIME)
        return ThumbnailResult(
            obj,
            key,
            width=thumb.width,
            height=thumb.height,
            bytes_fetched=fetched,
            bytes_written=writer.written,
        )
    except Exception as error:  # one bad file must not end the run
        return ThumbnailResult(obj, None, **failed(error, fetched))


def make_video_frames(
    objects: Iterable[StoredObject],
    store: Storage,
    *,
    keys: DerivedKeys | None = None,
    max_frames: int = 1000,
    fps: float | None = None,
    workers: int = 1,
    video_access: VideoAccess = "proxy",
    ffmpeg: str = "ffmpeg",
) -> Iterator[VideoFrames]:
    """Write (or reuse) each video's hq/lq frames, a thumbnail, and a frames manifest, in input order.

    The manifest (``keys.manifest_key``) is written last and lists the sections, so its presence with the
    source's etag means the whole set is there: a rerun reads it back instead of extracting again. At most
    ``max_frames`` frames (sampled at ``fps`` when given); ``truncated`` says when the cap cut the video.
    ffmpeg decodes on the CPU, hence one worker by default.
    """
    chosen = keys or DerivedKeys()
    if max_frames < 1:
        raise ConfigError("max_frames", max_frames, "extract at least one frame")
    with RangeProxy() as proxy:

        def one(obj: StoredObject) -> VideoFrames:
            return frames_one(
                obj, store, chosen, proxy, max_frames=max_frames, fps=fps, video_access=video_access, ffmpeg=ffmpeg
            )

        yield from bounded_map(one, objects, workers)


def frames_one(
    obj: StoredObject,
    store: Storage,
    keys: DerivedKeys,
    proxy: RangeProxy,
    *,
    max_frames: int = 1000,
    fps: float | None = None,
    video_access: VideoAccess = "proxy",
    ffmpeg: str = "ffmpeg",
) -> VideoFrames:
    """One video's frame sets (see :func:`make_video_frames`); never raises for the object."""
    fetched = 0
    writer = _Writer(store, obj)
    try:
        manifest_key = keys.manifest_key(obj.key)
        if writer.current(manifest_key):
            manifest = json.loads(store.read_all(obj.container, manifest_key))
            sections = tuple(Section.from_json(s) for s in manifest["sections"])
            return VideoFrames(obj, manifest["thumbnail"], sections, reused=True, truncated=bool(manifest["truncated"]))
        if media_kind(obj.key) is not MediaKind.VIDEO:
            raise ProbeError("frame sets are for videos")
        source = video_source(store, proxy, obj, video_access)
        with tempfile.TemporaryDirectory(prefix="airflow-ingest-frames-") as tmp:
            try:
                # one frame past the cap tells whether the cap cut the video
                frames = extract_frames(source, Path(tmp), max_frames=max_frames + 1, fps=fps, ffmpeg=ffmpeg)
            finally:
                fetched = proxy.fetched(source)
            truncated = len(frames) > max_frames
            frames = frames[:max_frames]
            built = []
            for frame in frames:
                hq_key = keys.frame_key(obj.key, frame.index, "hq")
                lq_key = keys.frame_key(obj.key, frame.index, "lq")
                writer.put(hq_key, frame.hq.read_bytes(), "image/jpeg")
                writer.put(lq_key, frame.lq.read_bytes(), "image/jpeg")
                built.append(Section(frame.index, frame.width, frame.height, hq_key, lq_key))
            thumb = make_thumbnail(frames[0].hq)
        thumbnail_key = keys.thumbnail_key(obj.key)
        writer.put(thumbnail_key, thumb.data, THUMBNAIL_MIME)
        manifest_doc = {
            "source": obj.key,
            "etag": obj.etag,
            "thumbnail": thumbnail_key,
            "truncated": truncated,
            "sections": [s.to_json() for s in built],
        }
        writer.put(manifest_key, json.dumps(manifest_doc).encode(), "application/json")
        return VideoFrames(
            obj,
            thumbnail_key,
            tuple(built),
            truncated=truncated,
            bytes_fetched=fetched,
            bytes_written=writer.written,
        )
    except Exception as error:  # one bad file must not end the run
        return VideoFrames(obj, None, **failed(error, fetched))
