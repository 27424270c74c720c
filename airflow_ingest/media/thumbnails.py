"""Probing and thumbnails against storage: ranged reads, create-only writes, a probe cache, bounded threads.

The rules (header parsing, thumbnail size, key templates, ffmpeg calls) live in ``core/probe.py`` and
``core/thumbnails.py``; this module feeds them bytes through the Airflow providers' hooks and writes back:

- **Ranged reads** per backend: ``S3Hook`` client ``get_object(Range=...)``, ``GCSHook`` blobs
  ``download_as_bytes(start, end)``, ``WasbHook`` blob clients ``download_blob(offset, length)``, local files.
  A JPEG's width costs its first 16 KB plus, past a large EXIF block, one 4 KB read at the next marker.
- **Videos** go to ffprobe/ffmpeg as a local path, or as a URL on a loopback range proxy (:class:`RangeProxy`)
  that serves the object through the same ranged reads: it works with every credential type (GCS signing needs
  a private key or iam.signBlob), puts no signature on a command line, and counts the bytes ffprobe pulls.
  A short-lived presigned/SAS/signed URL is the alternative (``video_access="signed"``; not counted).
- **Writes never replace an original**: thumbnails and frames are written create-only (S3 ``If-None-Match: *``,
  GCS ``if_generation_match=0``, Azure ``overwrite=False``) and carry the source's etag in object metadata.
  An existing file with our marker and the same etag is reused; with our marker and another etag it is
  replaced (the source changed); without our marker it is left alone and the object fails with the reason.
- **Nothing crashes a run**: a missing object, a refused read or a corrupt header becomes a result with a
  reason and a ``retryable`` flag. Results come back in input order, a bounded number in flight.
- **Nothing is probed twice**: :class:`ProbeCache` keeps results by url and etag in a JSON-lines file in the
  workspace; a changed object has a new etag and is probed again.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote

from airflow_ingest.core.errors import ConfigError, StorageError
from airflow_ingest.core.media import MediaKind, media_kind
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.plan import ManifestBuilder
from airflow_ingest.core.platforms import FactsWindow, ProbedManifests, manifest_builder, parse_target
from airflow_ingest.core.probe import MediaInfo, ProbeError, parse_ffprobe, probe_with, run_ffprobe
from airflow_ingest.core.thumbnails import THUMBNAIL_MIME, DerivedKeys, extract_frames, make_thumbnail
from airflow_ingest.core.urls import Source
from airflow_ingest.storage.stores import AlreadyExists, MediaStore, ReadFailure, media_store_for

SOURCE_ETAG = "airflow_ingest_source_etag"  # object metadata naming what a derived file was made from
SOURCE_KEY = "airflow_ingest_source_key"  # Azure metadata names must be identifiers: underscores, no dashes

VideoAccess = Literal["proxy", "signed"]


# -- a loopback range proxy for ffprobe and ffmpeg ---------------------------------------------------------------


@dataclass
class _Served:
    store: MediaStore
    container: str
    key: str
    size: int
    content_type: str
    fetched: int = 0


class RangeProxy:
    """Serves registered objects on ``http://127.0.0.1:<port>/<token>/<name>`` with HTTP ranges, read through
    the store in growing chunks, so ffprobe can seek in a video that stays in the bucket.

    Tokens are random and the server listens on loopback only, for the life of the ``with`` block.
    """

    CHUNK = 64 * 1024
    MAX_CHUNK = 1024 * 1024
    # An open-ended range ("bytes=N-") is answered with at most this much: ffprobe asks for the rest of the file,
    # reads what it needs and hangs up, and whatever was sent meanwhile into socket buffers was read for nothing.
    MAX_RESPONSE = 512 * 1024

    def __init__(self) -> None:
        self._served: dict[str, _Served] = {}
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_HEAD(self) -> None:
                proxy._answer(self, body=False)

            def do_GET(self) -> None:
                proxy._answer(self, body=True)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="airflow-ingest-proxy", daemon=True)
        self._thread.start()

    def __enter__(self) -> RangeProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, store: MediaStore, obj: StoredObject) -> str:
        token = secrets.token_urlsafe(16)
        name = quote(obj.key.rpartition("/")[2] or "object")
        content_type = obj.content_type or "application/octet-stream"
        with self._lock:
            self._served[token] = _Served(store, obj.container, obj.key, obj.size, content_type)
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}/{token}/{name}"

    def fetched(self, url: str) -> int:
        """Bytes read from storage for ``url`` so far; forgetting it afterwards keeps the table small."""
        token = url.rsplit("/", 2)[-2]
        with self._lock:
            served = self._served.pop(token, None)
        return served.fetched if served else 0

    def _answer(self, request: BaseHTTPRequestHandler, *, body: bool) -> None:
        parts = request.path.split("/")
        with self._lock:
            served = self._served.get(parts[1]) if len(parts) > 2 else None
        if served is None:
            request.send_error(404)
            return
        start, end = 0, served.size - 1
        header = request.headers.get("Range")
        if header and header.startswith("bytes="):
            first, _, last = header[6:].split(",")[0].partition("-")
            if first:
                start = int(first)
                end = min(int(last), served.size - 1) if last else served.size - 1
                end = min(end, start + self.MAX_RESPONSE - 1)  # a shorter 206 is valid; the reader asks again
            elif last:  # a suffix range: the last N bytes
                start = max(served.size - int(last), 0)
            if start >= served.size:
                request.send_response(416)
                request.send_header("Content-Range", f"bytes */{served.size}")
                request.send_header("Content-Length", "0")
                request.end_headers()
                return
            request.send_response(206)
            request.send_header("Content-Range", f"bytes {start}-{end}/{served.size}")
        else:
            request.send_response(200)
        request.send_header("Accept-Ranges", "bytes")
        request.send_header("Content-Type", served.content_type)
        request.send_header("Content-Length", str(end - start + 1))
        request.end_headers()
        if not body:
            return
        position, chunk = start, self.CHUNK
        try:
            while position <= end:
                length = min(chunk, end - position + 1)
                data = served.store.read(served.container, served.key, position, length)
                with self._lock:
                    served.fetched += len(data)
                if not data:
                    break
                request.wfile.write(data)
                position += len(data)
                chunk = min(chunk * 2, self.MAX_CHUNK)
        except (BrokenPipeError, ConnectionResetError):
            return  # the reader seeked elsewhere or had enough
        except StorageError:
            request.close_connection = True


# -- the probe cache ------------------------------------------------------------------------------------------


def per_file_failure(error: BaseException) -> tuple[str, bool]:
    """What one file's failure becomes in its result: the reason, and whether a later run may succeed.

    A refused or missing read says so itself; a file that is not what its name says (or a template that
    names the original) will fail the same way again; anything unexpected is worth another try.
    """
    if isinstance(error, ReadFailure):
        return str(error), error.retryable
    if isinstance(error, (ProbeError, ConfigError)):
        return str(error), False
    return f"unexpected {type(error).__name__}: {error}", True


@dataclass(frozen=True, slots=True)
class Probed:
    """One object's probe: its facts, or why there are none (``retryable``: a later run may succeed)."""

    obj: StoredObject
    info: MediaInfo | None
    failure: str | None = None
    retryable: bool = False
    bytes_fetched: int = 0
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.info is not None


class ProbeCache:
    """Probe results by (url, etag) in ``{folder}/probe-cache.jsonl``, appended as results arrive.

    A changed object has a new etag, so a stale entry is never used; retryable failures are not kept, so
    they are tried again next run. Safe to share between threads of one process.
    """

    NAME = "probe-cache.jsonl"

    def __init__(self, folder: Path | str) -> None:
        self.path = Path(folder) / self.NAME
        self._entries: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        if self.path.exists():
            with self.path.open(encoding="utf-8") as lines:
                for line in lines:
                    if not line.strip():
                        continue
                    try:
                        entry = json.loads(line)
                        self._entries[(entry["url"], entry["etag"])] = line
                    except (ValueError, KeyError, TypeError):
                        continue  # a line cut short by a killed run: the object is probed again

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, obj: StoredObject) -> Probed | None:
        line = self._entries.get((obj.url, obj.etag))
        if line is None:
            return None
        entry = json.loads(line)
        info = MediaInfo.from_json(entry["info"]) if "info" in entry else None
        return Probed(obj, info, failure=entry.get("failure"), cached=True)

    def put(self, probed: Probed) -> None:
        if probed.cached or probed.retryable:
            return
        entry: dict[str, object] = {"url": probed.obj.url, "etag": probed.obj.etag}
        if probed.info is not None:
            entry["info"] = probed.info.to_json()
        else:
            entry["failure"] = probed.failure
        line = json.dumps(entry, separators=(",", ":"), ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line)
            self._entries[(probed.obj.url, probed.obj.etag)] = line


def probe_cache_folder(value: str | Path) -> Path:
    """The probe cache's local folder; an object-storage URI is refused rather than read as a relative path.

    The cache is appended to line by line as probes finish, which object storage cannot do; a URI used to end
    as a folder named ``s3:`` in the worker's working directory, a cache no other worker saw.
    """
    text = str(value)
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", text)
    if scheme is None:
        return Path(text)
    if scheme.group(1).lower() == "file":
        return Path(text[len("file://") :])
    raise ConfigError(
        "probe_cache",
        text,
        "the probe cache is a folder on the worker's disk (appended as probes finish), not object storage: give a "
        "local path, e.g. a volume shared by the workers, or leave it unset for $AIRFLOW_HOME/airflow-ingest",
    )


# -- probing --------------------------------------------------------------------------------------------------

T = TypeVar("T")
R = TypeVar("R")


def bounded_map(work: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """``map`` on a thread pool with at most ``2 x workers`` items in flight, results in input order.

    Streaming: a listing of millions of objects is never held in memory, and results flow out as they come.
    """
    if workers <= 1:
        yield from map(work, items)
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="airflow-ingest-media")
    pending: deque[Future[R]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class _Prober:
    store: MediaStore
    proxy: RangeProxy
    first: int
    video_access: VideoAccess
    ffprobe: str

    def __call__(self, obj: StoredObject) -> Probed:
        fetched = 0

        def fetch(offset: int, length: int) -> bytes:
            nonlocal fetched
            data = self.store.read(obj.container, obj.key, offset, length)
            fetched += len(data)
            return data

        try:
            kind = media_kind(obj.key)
            if kind is MediaKind.PDF:  # nothing a platform needs from a PDF's header
                return Probed(obj, MediaInfo(kind=MediaKind.PDF, mime="application/pdf", size=obj.size))
            if kind is MediaKind.VIDEO:
                source = _video_source(self.store, self.proxy, obj, self.video_access)
                try:
                    document = run_ffprobe(source, ffprobe=self.ffprobe)
                finally:
                    if source.startswith("http://127.0.0.1"):
                        fetched += self.proxy.fetched(source)
                return Probed(obj, parse_ffprobe(document, size=obj.size, key=obj.key), bytes_fetched=fetched)
            probe = probe_with(fetch, obj.size, obj.key, first=self.first)
            return Probed(obj, probe.info, bytes_fetched=fetched)
        except Exception as error:  # one bad file must not end the run; the report shows it
            reason, retryable = per_file_failure(error)
            return Probed(obj, None, failure=reason, retryable=retryable, bytes_fetched=fetched)


def probe_objects(
    objects: Iterable[StoredObject],
    store: MediaStore,
    *,
    cache: ProbeCache | None = None,
    workers: int = 4,
    first: int = 16384,
    video_access: VideoAccess = "proxy",
    ffprobe: str = "ffprobe",
) -> Iterator[Probed]:
    """Probe each object (images, DICOM and NIfTI from header bytes, videos with ffprobe), in input order.

    Cached results come back without a read (``cached=True``, ``bytes_fetched=0``); new results are added to
    the cache as they arrive. ``bytes_fetched`` counts what was read from storage for the object (for
    ``video_access="signed"`` ffprobe reads directly and its bytes are not counted).
    """
    if video_access not in ("proxy", "signed"):
        raise ConfigError("video_access", video_access, "use 'proxy' or 'signed'")
    with RangeProxy() as proxy:
        prober = _Prober(store, proxy, first, video_access, ffprobe)

        def one(obj: StoredObject) -> Probed:
            hit = cache.get(obj) if cache is not None else None
            return hit if hit is not None else prober(obj)

        for probed in bounded_map(one, objects, workers):
            if cache is not None:
                cache.put(probed)
            yield probed


# -- thumbnails and frames ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ThumbnailResult:
    """An object's thumbnail key (written or reused), or why it has none."""

    obj: StoredObject
    key: str | None
    reused: bool = False
    width: int | None = None
    height: int | None = None
    failure: str | None = None
    retryable: bool = False
    bytes_fetched: int = 0
    bytes_written: int = 0

    @property
    def ok(self) -> bool:
        return self.key is not None


@dataclass(frozen=True, slots=True)
class Section:
    """One Darwin read-only video section: a frame's index, size and hq/lq object keys."""

    index: int
    width: int
    height: int
    hq_key: str
    lq_key: str

    def to_json(self) -> dict[str, object]:
        return {"index": self.index, "width": self.width, "height": self.height, "hq": self.hq_key, "lq": self.lq_key}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Section:
        return cls(int(data["index"]), int(data["width"]), int(data["height"]), str(data["hq"]), str(data["lq"]))


@dataclass(frozen=True, slots=True)
class VideoFrames:
    """A video's frame sets and thumbnail (written or reused), or why there are none.

    ``truncated`` says the video has more frames than ``max_frames`` allowed; keys are object keys in the
    video's container (Darwin wants Azure keys prefixed with the container; the manifest builder adds it).
    """

    obj: StoredObject
    thumbnail_key: str | None
    sections: tuple[Section, ...] = ()
    reused: bool = False
    truncated: bool = False
    failure: str | None = None
    retryable: bool = False
    bytes_fetched: int = 0
    bytes_written: int = 0

    @property
    def ok(self) -> bool:
        return self.thumbnail_key is not None


class _Writer:
    """Writes derived files that carry the source's etag, and replaces only files that carry our marker.

    Two guards, because neither is enough alone: a metadata check before writing (some S3-compatible stores
    and emulators ignore preconditions) and a create-only write (two runs racing for the same new key).
    """

    def __init__(self, store: MediaStore, obj: StoredObject) -> None:
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
    store: MediaStore,
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
    store: MediaStore,
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
            source = _video_source(store, proxy, obj, video_access)
            with tempfile.TemporaryDirectory(prefix="airflow-ingest-thumb-") as tmp:
                try:
                    frames = extract_frames(source, Path(tmp), max_frames=1, ffmpeg=ffmpeg)
                finally:
                    fetched = proxy.fetched(source) if source.startswith("http://127.0.0.1") else 0
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
        reason, retryable = per_file_failure(error)
        return ThumbnailResult(obj, None, failure=reason, retryable=retryable, bytes_fetched=fetched)


def make_video_frames(
    objects: Iterable[StoredObject],
    store: MediaStore,
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
    store: MediaStore,
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
        source = _video_source(store, proxy, obj, video_access)
        with tempfile.TemporaryDirectory(prefix="airflow-ingest-frames-") as tmp:
            try:
                # one frame past the cap tells whether the cap cut the video
                frames = extract_frames(source, Path(tmp), max_frames=max_frames + 1, fps=fps, ffmpeg=ffmpeg)
            finally:
                fetched = proxy.fetched(source) if source.startswith("http://127.0.0.1") else 0
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
        reason, retryable = per_file_failure(error)
        return VideoFrames(obj, None, failure=reason, retryable=retryable, bytes_fetched=fetched)


# -- the plan's media stage -----------------------------------------------------------------------------------


def default_cache_folder(source: Source) -> Path:
    """Where a source's probe cache lives: ``$AIRFLOW_HOME/airflow-ingest/probe-cache/{scheme}/{container}``.

    Local on purpose: the cache is read once per run and appended to as objects are probed, which object
    storage does badly (no append); keyed by url and etag, it is correct on any worker, and a worker without
    it only probes again. One folder per container keeps each run's load to its own bucket's entries.
    """
    home = Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow")
    container = source.container.replace("/", "_") or "_"
    return home / "airflow-ingest" / "probe-cache" / source.scheme.value / container


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
    :class:`~airflow_ingest.core.platforms.FactsWindow`); a bounded number are in flight on ``workers``
    threads. Nothing here raises for one object: a failed probe or thumbnail becomes the object's ``failure``
    fact (Darwin read-only skips the item with it; Encord leaves the metadata out). With ``thumbnails``, objects
    that the key templates say are derived files (our own thumbnails and frames) are dropped from the stream
    and counted, so a run over a bucket holding them does not register them as images.
    """

    def __init__(
        self,
        store: MediaStore,
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
            prober = _Prober(self.store, proxy, 16384, self.video_access, "ffprobe")

            def one(obj: StoredObject) -> tuple[StoredObject, Probed | None, ThumbnailResult | VideoFrames | None]:
                kind = media_kind(obj.key)
                if kind is None:  # the plan skips it with its reason; nothing to probe
                    return obj, None, None
                probed = (self.cache.get(obj) if self.cache is not None else None) or prober(obj)
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
    platform: str,
    target: Mapping[str, Any],
    source: Source,
    objects: Iterable[StoredObject],
    *,
    conn_id: str | None = None,
    thumbnails: bool = False,
    cache_folder: str | Path | None = None,
    workers: int = 4,
    max_frames: int = 1000,
) -> tuple[ManifestBuilder, Iterator[StoredObject], MediaStage]:
    """The builder and object stream for a plan with probing on: what the CLI and the plan operator share.

    ``thumbnails`` (V7 Darwin read-only only) also writes thumbnails and frame sets where ``target["keys"]``
    says (templates left unset write under ``thumbnails/``). The probe cache is ``cache_folder``, else
    :func:`default_cache_folder`. Raises :class:`ConfigError` for options that cannot work together.
    """
    from airflow_ingest.core.darwin import DarwinTarget

    parsed = parse_target(platform, target)
    keys: DerivedKeys | None = None
    if thumbnails:
        if not isinstance(parsed, DarwinTarget) or not parsed.readonly:
            raise ConfigError("thumbnails", True, "thumbnails are for V7 Darwin read-only registration (readonly)")
        try:
            keys = parsed.keys.derived(generate=True)
        except ConfigError as error:
            raise ConfigError("keys", parsed.keys.model_dump(exclude_none=True), str(error)) from None
    window = FactsWindow()
    builder = ProbedManifests(manifest_builder(platform, target, window), window)
    folder = probe_cache_folder(cache_folder) if cache_folder else default_cache_folder(source)
    stage = MediaStage(
        media_store_for(source, conn_id),
        window,
        cache=ProbeCache(folder),
        thumbnails=keys,
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


def _video_source(store: MediaStore, proxy: RangeProxy, obj: StoredObject, access: VideoAccess) -> str:
    local = store.local_path(obj.container, obj.key)
    if local is not None:
        return local
    if access == "signed":
        return store.signed_url(obj.container, obj.key, timedelta(minutes=30))
    return proxy.url(store, obj)


__all__ = [
    "SOURCE_ETAG",
    "MediaStage",
    "MediaStats",
    "ProbeCache",
    "Probed",
    "RangeProxy",
    "Section",
    "ThumbnailResult",
    "VideoFrames",
    "bounded_map",
    "default_cache_folder",
    "frames_one",
    "make_thumbnails",
    "make_video_frames",
    "media_facts",
    "plan_media",
    "probe_cache_folder",
    "probe_objects",
    "thumbnail_one",
]
