"""Media facts from header bytes, fetched a range at a time: the dispatcher over the header parsers.

Read-only Darwin registration needs ``width``/``height`` and Encord's strict client-only integrations need
``imageMetadata``/``videoMetadata``; reading whole files for that would cost a bucket's size in egress. So the
parsers (:mod:`.image_headers`, :mod:`.medical_headers`) work on a :class:`~.media_info.Window` of the bytes
fetched so far and, when a format needs bytes it does not have, answer :class:`~.media_info.NeedMore` with the
exact range instead of asking for everything up to it. :func:`probe_with` drives a fetch callback until the
answer is known; :mod:`airflow_ingest.media.probing` supplies ranged reads from storage.

Pure: no Airflow, no network, no subprocess (videos: :mod:`.video_facts` reads what ffprobe printed).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from airflow_ingest.core.image_headers import IMAGE_PARSERS, sniff
from airflow_ingest.core.media import MediaKind, media_kind
from airflow_ingest.core.media_info import MediaInfo, MissingBytes, NeedMore, ProbeError, Window
from airflow_ingest.core.medical_headers import read_dicom, read_nifti


def probe_header(window: Window, key: str = "") -> MediaInfo | NeedMore:
    """Probe an image, DICOM or NIfTI file from the bytes in ``window``, or say which bytes are still needed.

    The format comes from the magic bytes, not the name: a ``.jpg`` that is really a PNG is reported as PNG.
    Raises :class:`ProbeError` for bytes of no known format, a broken header, or a video/PDF (see
    :func:`parse_ffprobe`).
    """
    head = window.try_get(0, 132) or window.prefix()
    if len(head) < 132 and not window.complete:
        return NeedMore(len(head), 132 - len(head))
    name = sniff(head)
    try:
        if name in IMAGE_PARSERS:
            return IMAGE_PARSERS[name](window)
        if name == "dicom" or (name is None and media_kind(key) is MediaKind.DICOM):
            return read_dicom(window)
        if name == "nifti" or (name == "gzip" and media_kind(key) is MediaKind.NIFTI):
            return read_nifti(window, gzipped=name == "gzip")
    except MissingBytes as missing:
        return NeedMore(missing.offset, missing.length)
    except struct.error as error:
        raise ProbeError(f"a cut-short or malformed {name} header ({error})") from None
    kind = media_kind(key)
    if kind in (MediaKind.VIDEO, MediaKind.PDF, MediaKind.AUDIO):
        raise ProbeError(f"a {kind.value} file is not probed from its header bytes")
    shown = head[:8].hex(" ")
    raise ProbeError(f"not a PNG, JPEG, TIFF, BMP, GIF, WebP, DICOM or NIfTI file (first bytes {shown})")


Fetch = Callable[[int, int], bytes]


@dataclass(slots=True)
class HeaderProbe:
    """The result of :func:`probe_with`: the facts and how many bytes it took to learn them."""

    info: MediaInfo
    fetched: int
    reads: int = field(default=0)


def probe_with(
    fetch: Fetch,
    size: int | None,
    key: str = "",
    *,
    first: int = 16384,
    chunk: int = 4096,
    limit: int = 8 << 20,
    max_reads: int = 32,
) -> HeaderProbe:
    """Probe by fetching ranges: ``fetch(offset, length)`` returns up to ``length`` bytes at ``offset``.

    Starts with ``first`` bytes, then fetches what :func:`probe_header` asks for, at least ``chunk`` bytes at a
    time (a round trip costs more than a few KB). Gives up with :class:`ProbeError` past ``limit`` bytes or
    ``max_reads`` reads: a header that long is a broken or hostile file, not one to probe.
    """
    window = Window(size)
    reads = 0

    def take(offset: int, length: int) -> None:
        nonlocal reads
        if size is not None:
            length = min(length, size - offset)
        if length <= 0:
            raise ProbeError(f"the file ends at byte {size}, inside its header")
        if window.fetched + length > limit:
            raise ProbeError(f"the header needs more than {limit} bytes; this is not a file to probe by its header")
        if reads >= max_reads:
            raise ProbeError(f"the header needs more than {max_reads} reads; this is not a file to probe by its header")
        data = fetch(offset, length)
        reads += 1
        if not data:
            raise ProbeError(f"the file ends at byte {offset}, inside its header")
        window.add(offset, data)
        if len(data) < length and window.size is None and offset == len(window.prefix()) - len(data):
            window.size = offset + len(data)  # a short read at the end tells the size

    take(0, first if size is None else min(first, size))
    while True:
        answer = probe_header(window, key)
        if isinstance(answer, MediaInfo):
            return HeaderProbe(answer, window.fetched, reads)
        take(answer.offset, max(answer.length, chunk))
