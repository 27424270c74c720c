"""How ffprobe and ffmpeg reach a video that stays in its bucket: a loopback HTTP range proxy, or a signed URL.

The tools want a path or a URL. :class:`RangeProxy` serves each object on ``127.0.0.1`` through the same
ranged reads the header probes use, so it works with every credential type (GCS signing needs a private key
or iam.signBlob), puts no signature on a command line, and counts the bytes the tool pulls. A short-lived
presigned/SAS/signed URL is the alternative (``video_access="signed"``): the tool reads the bucket directly
and its bytes are not counted. A local file is simply given as its path.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import quote

from airflow_ingest.core.errors import StorageError
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.storage.base import Storage

VideoAccess = Literal["proxy", "signed"]


@dataclass
class _Served:
    store: Storage
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

    def url(self, store: Storage, obj: StoredObject) -> str:
        token = secrets.token_urlsafe(16)
        name = quote(obj.key.rpartition("/")[2] or "object")
        content_type = obj.content_type or "application/octet-stream"
        with self._lock:
            self._served[token] = _Served(store, obj.container, obj.key, obj.size, content_type)
        return f"{self._base()}{token}/{name}"

    def _base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def fetched(self, url: str) -> int:
        """Bytes read from storage for ``url`` so far; forgetting it afterwards keeps the table small.

        Zero for anything that is not one of this proxy's URLs (a local path, a signed URL): callers pass
        whatever :func:`video_source` gave them.
        """
        if not url.startswith(self._base()):
            return 0
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


def video_source(store: Storage, proxy: RangeProxy, obj: StoredObject, access: VideoAccess) -> str:
    """What to hand ffprobe or ffmpeg for ``obj``: its local path, a signed URL, or a URL on ``proxy``."""
    local = store.local_path(obj.container, obj.key)
    if local is not None:
        return local
    if access == "signed":
        return store.signed_url(obj.container, obj.key, timedelta(minutes=30))
    return proxy.url(store, obj)
