"""A loopback HTTP proxy in front of a storage emulator that fails chosen listing pages, for the storage faults.

The emulators (moto, Azurite, the GCS emulator) never fail; real storage does, now and then, in the middle of a
long listing: a 500 or 503, an answer cut short, a connection dropped. The proxy forwards every request to the
emulator untouched and counts the listing requests (S3 ``ListObjects(V2)``, Azure ``List Blobs``, GCS
``objects.list``); the ones whose number is in its schedule get a fault instead of their answer. Clients reach it
exactly as they reach the emulator, so the SDKs' own retries and our error handling are what is tested.
Other servers' requests can be chosen instead (``patterns``, ``methods``: the Label Studio faults pick imports and
task lookups), and a fault can carry the body it answers with.
"""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

LISTINGS = (
    re.compile(r"^/[^/?]+/?\?(?:.*&)?list-type=2(?:&|$)"),  # S3 ListObjectsV2, path-style
    re.compile(r"^/[^/?]+/[^/?]+\?(?:.*&)?comp=list(?:&|$)"),  # Azure List Blobs: /account/container?comp=list
    re.compile(r"^/storage/v1/b/[^/?]+/o(?:\?|$)"),  # GCS objects.list
)
HOP_HEADERS = frozenset({"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"})


XML_ERROR = b"<Error><Code>InternalError</Code><Message>injected</Message></Error>"


@dataclass(frozen=True)
class Fault:
    """What a listing request gets instead of its answer: an HTTP ``status`` (with ``body``, XML by default), or
    the answer ``cut`` or ``dropped``."""

    status: int = 0
    cut: bool = False
    dropped: bool = False
    body: bytes = XML_ERROR
    content_type: str = "application/xml"


@dataclass
class Schedule:
    """Which listing requests (numbered from 1, in arrival order) fail, and how; ``from_request`` fails all after."""

    at: dict[int, Fault] = field(default_factory=dict)
    from_request: int = 0
    fault: Fault = field(default_factory=lambda: Fault(status=503))

    def fault_for(self, number: int) -> Fault | None:
        if number in self.at:
            return self.at[number]
        return self.fault if self.from_request and number >= self.from_request else None


class FaultProxy:
    """Serve on a free loopback port in a thread; ``url`` replaces the emulator's URL in the connection."""

    def __init__(
        self, upstream: str, patterns: Sequence[re.Pattern[str]] = LISTINGS, methods: Sequence[str] = ("GET",)
    ) -> None:
        self.patterns, self.methods = tuple(patterns), tuple(methods)
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.schedule = Schedule()
        self.listings = 0
        self.faults: list[tuple[int, Fault]] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="fault-proxy", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def configure(self, schedule: Schedule) -> None:
        with self.lock:
            self.schedule, self.listings, self.faults = schedule, 0, []

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _decide(self, method: str, path: str) -> Fault | None:
        if method not in self.methods or not any(pattern.search(path) for pattern in self.patterns):
            return None
        with self.lock:
            self.listings += 1
            fault = self.schedule.fault_for(self.listings)
            if fault is not None:
                self.faults.append((self.listings, fault))
            return fault

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                fault = proxy._decide(self.command, self.path)
                if fault is not None and fault.dropped:
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault is not None and fault.status:
                    self._answer(fault.status, fault.body, fault.content_type)
                    return
                upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=120)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                    self.send_response(answer.status, answer.reason)
                    for name, value in answer.getheaders():
                        if name.lower() not in HOP_HEADERS and (name.lower() != "content-length" or not data):
                            self.send_header(name, value)  # a HEAD's length is the object's, not its empty body's
                    if data:
                        self.send_header("Content-Length", str(len(data)))
                    if fault is not None and fault.cut:  # promise the whole answer, send half, hang up
                        self.send_header("Connection", "close")
                        self.end_headers()
                        self.wfile.write(data[: len(data) // 2])
                        self.wfile.flush()
                        self.close_connection = True
                        return
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                finally:
                    upstream.close()

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _forward

        return Handler
