"""A loopback HTTP server that answers exactly what a test tells it to, byte for byte, or forwards to a fake.

The fakes answer as the platforms document; a real platform (or a proxy, a load balancer, a captive portal in
front of it) can answer anything: any status, any headers, any bytes. :class:`HostileServer` sends the answer
a test set, raw (headers as bytes, so even non-Latin-1 values go out), with ``Connection: close`` so no answer
can desynchronise the next. Requests whose body matches no rule are forwarded to ``upstream`` (a fake) when one
is given, so a whole sync can run against the fake while chosen requests get hostile answers, before or after
the fake has acted on them (``after_upstream``). Every request's path and headers are recorded.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    after_upstream: bool = False
    """Forward the request first (the fake acts on it), then answer this instead of the fake's answer."""
    hang: float = 0.0
    """Seconds to wait before answering: a server that accepted the request and went quiet."""


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Rules:
    """Which requests get which answer: the first rule whose test takes (path, decoded body) wins."""

    rules: list[tuple[Callable[[str, str], bool], Answer]] = field(default_factory=list)
    default: Answer | None = Answer()


def decoded(body: bytes) -> str:
    """A request body as text; RedBrick's base64(gzip(json)) bodies are unwrapped so rules can read the query."""
    try:
        return gzip.decompress(base64.b64decode(body, validate=True)).decode("utf-8", errors="replace")
    except (ValueError, OSError, EOFError):
        return body.decode("utf-8", errors="replace")


class HostileServer:
    def __init__(self, upstream: str | None = None) -> None:
        self.upstream = urlsplit(upstream) if upstream else None
        self.rules = Rules(default=None if upstream else Answer())
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="hostile", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, answer: Answer | None = None, **rules: Answer) -> None:
        """Answer every request with ``answer``; ``rules`` map a text found in the request's path or body (RedBrick's
        decoded) to an answer. Without ``answer``, the rest is forwarded upstream (or answered 200, empty)."""
        with self.lock:
            self.rules = Rules(
                [(lambda path, body, text=text: text in path or text in body, a) for text, a in rules.items()],
                answer if answer is not None or self.upstream else Answer(),
            )
            self.seen = []

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _choose(self, seen: Seen) -> Answer | None:
        with self.lock:
            self.seen.append(seen)
            text = decoded(seen.body)
            return next((a for test, a in self.rules.rules if test(seen.path, text)), self.rules.default)

    def _forward(self, seen: Seen) -> Answer:
        assert self.upstream is not None
        upstream = http.client.HTTPConnection(self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=60)
        try:
            hop = {"connection", "keep-alive", "transfer-encoding", "host"}
            headers = {k: v for k, v in seen.headers.items() if k.lower() not in hop}
            upstream.request(seen.method, seen.path, body=seen.body or None, headers=headers)
            response = upstream.getresponse()
            body = response.read()
            kept = tuple((k, v) for k, v in response.getheaders() if k.lower() not in hop | {"content-length"})
            return Answer(response.status, body, kept)
        finally:
            upstream.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
                chosen = owner._choose(seen)
                if chosen is not None and chosen.hang:
                    time.sleep(chosen.hang)
                if chosen is None or chosen.after_upstream:
                    forwarded = owner._forward(seen)
                    chosen = forwarded if chosen is None else chosen
                lines = [f"HTTP/1.1 {chosen.status} Hostile".encode()]
                for name, value in chosen.headers:
                    lines.append(name.encode("latin-1") + b": " + value.encode("utf-8"))
                lines += [f"Content-Length: {len(chosen.body)}".encode(), b"Connection: close", b"", b""]
                self.wfile.write(b"\r\n".join(lines) + chosen.body)
                self.wfile.flush()
                self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        return Handler
