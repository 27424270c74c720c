"""Inventory benchmark (issue 17, item 6): S3 Inventory rows to the object stream, time and peak memory.

A report of N rows (Parquet and gzipped CSV, in files of 1M rows, keys in no order as S3 writes them) is made
on local disk once; then, in a fresh process per format (``python -m bench.inventory --one FMT N FOLDER``),
the rows are read, made objects, sorted with the spooled runs of :mod:`airflow_ingest.storage.s3_inventory` and
consumed in key order. Downloading the files is left out: it is a GET per file (a 10M-row Parquet report is
a few hundred MB in a handful of objects), network-bound, not CPU. The figure set beside it is what a LIST of
the same bucket costs at the listing benchmark's sequential rate (30 ms per request).

Memory must not grow with rows: the peak at 10M should be close to the peak at 1M.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.plan import peak_rss_mb

REPO = Path(__file__).resolve().parents[1]
LOGS = REPO / "bench" / ".logs"
BUCKET = "bench-bucket"
FILE_ROWS = 1_000_000
STEP = 7_368_787  # a prime: row j of the report is object (j * STEP) mod N, every object once, in no key order
LIST_SECONDS_PER_OBJECT = 1.27 / 32_000
"""The listing benchmark's sequential S3 figure at 30 ms per request (README, "Parallel listing")."""
TARGET = "peak at 10M < 1.5x 1M"


def key(i: int) -> str:
    return f"images/cam{i % 50:02d}/day{i % 7}/frame_{i:08d}.jpg"


def make_report(fmt: str, count: int, folder: Path) -> Path:
    """Write the data files and manifest.json of a ``count``-row report in ``fmt``; returns the manifest."""
    import hashlib

    import pyarrow as pa

    when = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
    files = []
    for start in range(0, count, FILE_ROWS):
        rows = range(start, min(start + FILE_ROWS, count))
        index = [(j * STEP) % count for j in rows]
        keys = [key(i) for i in index]
        etags = [f"{(i * 0x9E3779B97F4A7C15) & (2**128 - 1):032x}" for i in index]
        sizes = [100_000 + (i * 7919) % 900_000 for i in index]
        path = folder / f"part-{start // FILE_ROWS:04d}.{'csv.gz' if fmt == 'CSV' else 'parquet'}"
        if fmt == "CSV":
            stamp = when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            rows_text = zip(keys, sizes, etags, strict=True)
            lines = "".join(f'"{BUCKET}","{k}","{s}","{stamp}","{e}"\n' for k, s, e in rows_text)

            path.write_bytes(gzip.compress(lines.encode(), compresslevel=5))
        else:
            from pyarrow import parquet

            table = pa.table(
                {
                    "bucket": pa.array([BUCKET] * len(keys), pa.string()),
                    "key": pa.array(keys, pa.string()),
                    "size": pa.array(sizes, pa.int64()),
                    "last_modified_date": pa.array([when] * len(keys), pa.timestamp("ms", tz="UTC")),
                    "e_tag": pa.array(etags, pa.string()),
                }
            )
            parquet.write_table(table, path, compression="snappy", row_group_size=131_072)
        body = path.read_bytes()
        files.append({"key": path.name, "size": len(body), "MD5checksum": hashlib.md5(body).hexdigest()})
    manifest = folder / "manifest.json"
    schema = "Bucket, Key, Size, LastModifiedDate, ETag"
    manifest.write_text(json.dumps({"sourceBucket": BUCKET, "fileFormat": fmt, "fileSchema": schema, "files": files}))
    return manifest


def one(fmt: str, count: int, folder: Path) -> dict[str, Any]:
    """Read the report in ``folder`` into the object stream; runs in the child process."""
    from airflow_ingest.core.filters import Filters
    from airflow_ingest.core.inventory import parse_manifest
    from airflow_ingest.core.urls import parse_source
    from airflow_ingest.storage.base import url_prefix
    from airflow_ingest.storage.s3_inventory import file_objects, sorted_objects

    source = parse_source(f"s3://{BUCKET}/")
    started = time.perf_counter()
    manifest = parse_manifest((folder / "manifest.json").read_bytes(), "manifest.json", None)
    filters = Filters()
    runs = (
        batch
        for entry in manifest.files
        for batch in file_objects(folder / entry.key, manifest, source, filters, entry.key, url_prefix(source))
    )
    seen = 0
    last = ""
    for obj in sorted_objects(runs, 100_000):
        if obj.key <= last:
            raise AssertionError(f"out of order: {obj.key!r} after {last!r}")
        last = obj.key
        seen += 1
    seconds = time.perf_counter() - started
    if seen != count:
        raise AssertionError(f"{fmt}: {seen} objects of {count}")
    return {"format": fmt, "rows": count, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}


def spawn(fmt: str, count: int, folder: Path) -> dict[str, Any]:
    argv = [sys.executable, "-m", "bench.inventory", "--one", fmt, str(count), str(folder)]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(quick: bool = False, sizes: tuple[int, ...] | None = None) -> dict[str, Any]:
    """One run per format and size (a 10M run takes minutes here); the files are removed afterwards."""
    sizes = sizes or ((100_000, 200_000) if quick else (1_000_000, 10_000_000))
    results: dict[str, Any] = {}
    LOGS.mkdir(parents=True, exist_ok=True)
    for fmt in ("Parquet", "CSV"):
        runs = []
        for count in sizes:
            folder = Path(tempfile.mkdtemp(prefix=f"inventory-{fmt}-{count}-", dir=LOGS))
            try:
                began = time.perf_counter()
                make_report(fmt, count, folder)
                made = time.perf_counter() - began
                result = spawn(fmt, count, folder)
                result["report_bytes"] = sum(p.stat().st_size for p in folder.iterdir())
                result["made_in_s"] = made
                runs.append(result)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        small, large = runs[0], runs[-1]
        results[f"inventory_{fmt.lower()}"] = {
            "rows": large["rows"],
            "seconds": large["seconds"],
            "rows_per_s": large["rows"] / large["seconds"],
            "peak_rss_mb": large["peak_rss_mb"],
            "smaller": {k: small[k] for k in ("rows", "seconds", "peak_rss_mb", "report_bytes")},
            "report_bytes": large["report_bytes"],
            "list_estimate_s": large["rows"] * LIST_SECONDS_PER_OBJECT,
            "target": TARGET,
            "met": None if quick else large["peak_rss_mb"] < 1.5 * small["peak_rss_mb"],
        }
    return results


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        print(json.dumps(one(argv[1], int(argv[2]), Path(argv[3]))))
        return 0
    sizes = tuple(int(n) for n in argv[argv.index("--sizes") + 1].split(",")) if "--sizes" in argv else None
    print(json.dumps(run(quick="--quick" in argv, sizes=sizes), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
