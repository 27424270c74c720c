"""moto's S3 server as ``moto_server`` runs it, plus one test-only door: seeding objects in-process.

Putting 10,000 objects through the S3 API costs a test ~40 s of moto's CPU (signature checks, XML, one
request each); the objects under test are the listing's, not the puts'. ``POST /_seed/<bucket>`` with a JSON
list of ``[key, size]`` pairs creates the bucket if needed and puts each object through moto's backend directly,
the same objects (ETag, size, last-modified) a PUT makes, in a fraction of a second per thousand. Everything else
is moto's own application, so the hooks under test talk to the real S3 API.

Run: ``python -m tests.fakes.s3_server --port 5070``.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

SEED_PATH = "/_seed/"
REGION = "us-east-1"
_CREATING = threading.Lock()


def seed_objects(bucket: str, objects: Iterable[tuple[str, int]], region: str = REGION) -> int:
    """Create ``bucket`` in this process's moto backend (if needed) and put each ``(key, size)`` of ``x`` bytes."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    with _CREATING:
        if bucket not in backend.buckets:
            backend.create_bucket(bucket, region)
    count = 0
    for key, size in objects:
        backend.put_object(bucket, key, b"x" * size)
        count += 1
    return count


def app() -> Callable[..., Iterable[bytes]]:
    """moto's WSGI application with the seeding door in front of it."""
    from moto.server import DomainDispatcherApplication, create_backend_app

    moto = DomainDispatcherApplication(create_backend_app)

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ["REQUEST_METHOD"] != "POST" or not path.startswith(SEED_PATH):
            return moto(environ, start_response)  # type: ignore[no-any-return]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        pairs = json.loads(environ["wsgi.input"].read(length))
        count = seed_objects(path[len(SEED_PATH) :], ((str(key), int(size)) for key, size in pairs))
        body = json.dumps({"seeded": count}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))

    from moto.server import MotoRequestHandler
    from werkzeug.serving import run_simple

    run_simple(args.host, args.port, app(), threaded=True, use_reloader=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
