"""Probing objects where they are: images, DICOM and NIfTI from ranged reads of their headers, videos with ffprobe.

Reading whole files for a width and a height would cost a bucket's size in egress. The header parsers in
:mod:`airflow_ingest.core.probe` say which bytes they still need; :class:`Prober` fetches exactly those through
the store's ranged reads (S3 ``get_object(Range=...)``, GCS ``download_as_bytes(start, end)``, Azure
``download_blob(offset, length)``, local files). Videos go to ffprobe through :func:`~.proxy.video_source`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.media import MediaKind, media_kind
from airflow_ingest.core.media_info import MediaInfo
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.probe import probe_with
from airflow_ingest.core.video_facts import parse_ffprobe
from airflow_ingest.media.cache import ProbeCache
from airflow_ingest.media.pool import bounded_map
from airflow_ingest.media.proxy import RangeProxy, VideoAccess, video_source
from airflow_ingest.media.results import Probed, failed
from airflow_ingest.media.tools import run_ffprobe
from airflow_ingest.storage.base import Storage

FIRST_READ = 16384  # the first ranged read of a header: most formats are settled by it


@dataclass
class Prober:
    """Probes one object (from ``cache`` when it holds the object's url and etag); never raises for the object.

    Shared by :func:`probe_objects` and the plan's media stage, so both count bytes and report failures alike.
    """

    store: Storage
    proxy: RangeProxy
    first: int = FIRST_READ
    video_access: VideoAccess = "proxy"
    ffprobe: str = "ffprobe"
    cache: ProbeCache | None = None

    def __call__(self, obj: StoredObject) -> Probed:
        hit = self.cache.get(obj) if self.cache is not None else None
        return hit if hit is not None else self._probe(obj)

    def _probe(self, obj: StoredObject) -> Probed:
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
                source = video_source(self.store, self.proxy, obj, self.video_access)
                try:
                    document = run_ffprobe(source, ffprobe=self.ffprobe)
                finally:
                    fetched += self.proxy.fetched(source)
                return Probed(obj, parse_ffprobe(document, size=obj.size, key=obj.key), bytes_fetched=fetched)
            probe = probe_with(fetch, obj.size, obj.key, first=self.first)
            return Probed(obj, probe.info, bytes_fetched=fetched)
        except Exception as error:  # one bad file must not end the run; the report shows it
            return Probed(obj, None, **failed(error, fetched))


def probe_objects(
    objects: Iterable[StoredObject],
    store: Storage,
    *,
    cache: ProbeCache | None = None,
    workers: int = 4,
    first: int = FIRST_READ,
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
        prober = Prober(store, proxy, first, video_access, ffprobe, cache)
        for probed in bounded_map(prober, objects, workers):
            if cache is not None:
                cache.put(probed)
            yield probed
