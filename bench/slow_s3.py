"""moto's S3 app behind a fixed per-request delay: a stand-in for real S3, which answers a page in tens of ms.

Run: ``python -m bench.slow_s3 --port 5070 --latency-ms 30``. The delay is a sleep in the server thread,
so it costs wall time, not CPU, like a network round trip.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterable
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--seed-bucket", help="create this bucket and fill it in-process before serving")
    parser.add_argument("--seed-prefixes", type=int, default=16, help="sub-prefixes wide/p00/ ... under wide/")
    parser.add_argument("--seed-per-prefix", type=int, default=1000, help="objects in each sub-prefix")
    parser.add_argument("--seed-other", type=int, default=0, help="objects under other/, outside wide/")
    args = parser.parse_args()

    import os

    from moto.server import MotoRequestHandler
    from werkzeug.serving import run_simple

    from tests.fakes.s3_server import app as s3_app

    os.environ.setdefault("MOTO_PORT", str(args.port))
    if args.seed_bucket:
        seed(args.seed_bucket, args.seed_prefixes, args.seed_per_prefix, args.seed_other)
    app = s3_app()
    delay = args.latency_ms / 1000.0

    cache: dict[str, tuple[str, list[tuple[str, str]], bytes]] = {}

    def slow(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Sleep like a network round trip; answer a repeated listing from memory like a fast server.

        moto spends ~130 ms of CPU building a 1,000-key page, far more than S3 does; replaying the same
        answer for the same listing request keeps the server's share near zero, so what is measured is the
        client under latency. Only GETs of bucket listings (ListObjectsV2, and ListObjects, which boto3's
        ``Bucket.objects`` uses) are replayed; everything else goes to moto.
        """
        time.sleep(delay)
        query = environ.get("QUERY_STRING", "")
        if environ["REQUEST_METHOD"] != "GET" or not is_listing(environ.get("PATH_INFO", ""), query):
            return app(environ, start_response)  # type: ignore[no-any-return]
        key = environ.get("PATH_INFO", "") + "?" + query
        if key not in cache:
            captured: dict[str, Any] = {}

            def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                captured["status"], captured["headers"] = status, headers
                return lambda data: None

            body = b"".join(app(environ, capture))
            if not captured["status"].startswith("200"):
                start_response(captured["status"], captured["headers"])
                return [body]
            cache[key] = (captured["status"], captured["headers"], body)
        status, headers, body = cache[key]
        start_response(status, headers)
        return [body]

    run_simple(args.host, args.port, slow, threaded=True, use_reloader=False, request_handler=MotoRequestHandler)


LISTING_PARAMS = frozenset({"list-type", "prefix", "delimiter", "max-keys", "marker", "continuation-token",
                            "start-after", "encoding-type", "fetch-owner"})  # fmt: skip


def is_listing(path: str, query: str) -> bool:
    """A GET of a bucket itself (path-style ``/bucket``) with only listing parameters: ListObjects(V2)."""
    if path.strip("/").count("/") or not path.strip("/"):
        return False
    names = {part.split("=", 1)[0] for part in query.split("&") if part}
    return names <= LISTING_PARAMS


def seed(bucket: str, prefixes: int, per_prefix: int, other: int) -> None:
    """Fill the bucket through moto's backend directly: seconds for 100,000 objects instead of minutes of PUTs."""
    from tests.fakes.s3_server import seed_objects

    wide = ((f"wide/p{p:02d}/obj_{i:06d}.jpg", 100) for p in range(prefixes) for i in range(per_prefix))
    seed_objects(bucket, wide)
    seed_objects(bucket, ((f"other/obj_{i:07d}.jpg", 100) for i in range(other)))


if __name__ == "__main__":
    main()
