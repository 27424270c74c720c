"""gcp-storage-emulator with a bucket filled in-process before it serves: the GCS side of the listing bench.

Run: ``python -m bench.seeded_gcs --port 9023 --seed-bucket b --seed-prefixes 16 --seed-per-prefix 1000``.
Seeding over HTTP is unusable at bench sizes: the emulator rewrites its whole metadata document as JSON on
every upload, so each PUT costs more than the last (about 44 objects/s at 1,000 objects here). Filling its
storage directly, with the object resources and checksums its own upload handler would make, and writing the
metadata once, takes seconds. Listing then goes through the emulator's normal HTTP handlers.
"""

from __future__ import annotations

import argparse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seed-bucket", required=True)
    parser.add_argument("--seed-prefixes", type=int, default=16, help="sub-prefixes wide/p00/ ... under wide/")
    parser.add_argument("--seed-per-prefix", type=int, default=1000, help="objects in each sub-prefix")
    args = parser.parse_args()

    from gcp_storage_emulator.server import create_server

    server = create_server(args.host, args.port, in_memory=True)
    seed(server._storage, f"http://{args.host}:{args.port}", args.seed_bucket, args.seed_prefixes, args.seed_per_prefix)
    server.run()


def seed(storage: object, base_url: str, bucket: str, prefixes: int, per_prefix: int) -> None:
    """Create ``bucket`` and put ``wide/pNN/obj_NNNNNN.jpg`` objects of 100 bytes, as bench/slow_s3.py does."""
    from gcp_storage_emulator.handlers.buckets import create_bucket
    from gcp_storage_emulator.handlers.objects import _checksums, _make_object_resource

    create_bucket(bucket, storage)
    body = b"x" * 100
    objects = storage.objects.setdefault(bucket, {})  # type: ignore[attr-defined]
    for p in range(prefixes):
        for i in range(per_prefix):
            name = f"wide/p{p:02d}/obj_{i:06d}.jpg"
            resource = _checksums(body, _make_object_resource(base_url, bucket, name, "image/jpeg", len(body)))
            storage._store.write_bytes(storage._object_path(bucket, name), body)  # type: ignore[attr-defined]
            objects[name] = resource
    storage._write_config_to_file()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
