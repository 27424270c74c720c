"""Plan benchmark: synthetic objects -> items -> batches -> Encord JSON, Encord CSV, Darwin and RedBrick manifests.

Targets: 1,000,000 objects planned in under 10 s and under 300 MB peak RSS; 2,000,000 take at most 2.2x the time
of 1,000,000 (planning streams, so it should scale linearly and its memory should not grow with the input).

Each plan runs in a fresh process (``python -m bench.plan --one CASE N FOLDER``) so its peak memory is its own,
not this runner's nor an earlier plan's. The objects come from a generator, as a listing's would: a list of a
million objects would itself cost hundreds of MB and measure the benchmark, not the planner.
"""

from __future__ import annotations

import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]  # not tests.harness: the child process must import only what it measures
LOGS = REPO / "bench" / ".logs"
BUCKET = "bench-bucket"
WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)

CASES: dict[str, tuple[str, dict[str, str]]] = {
    "darwin": ("darwin", {"dataset_slug": "bench-dataset", "storage_slug": "bench-storage"}),
    "encord_json": ("encord", {"region": "us-east-1"}),
    "encord_csv": ("encord", {"region": "us-east-1", "format": "csv"}),
    "redbrick": ("redbrick", {"storage_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}),
}

TARGET_SECONDS = 10.0
TARGET_PEAK_MB = 300.0
TARGET_RATIO = 2.2
TARGET = "< 10 s and < 300 MB for 1M; ratio <= 2.2"


def synthetic_objects(count: int) -> Iterator[Any]:
    """``count`` objects as a camera fleet's bucket holds them: mostly JPEG frames, 5% videos, 5% DICOM.

    Sizes vary deterministically (100 KB to 1 MB frames, 20 to 200 MB videos, about 0.5 MB slices) so Encord's
    2 GB batch limit cuts batches by bytes as it would on real data; etags are 32 hex digits like an MD5's.
    """
    from airflow_ingest.core.objects import StoredObject

    for i in range(count):
        kind = i % 20
        if kind == 7:
            suffix, size = "mp4", 20_000_000 + (i * 7919) % 180_000_000
        elif kind == 13:
            suffix, size = "dcm", 400_000 + (i * 7919) % 200_000
        else:
            suffix, size = "jpg", 100_000 + (i * 7919) % 900_000
        key = f"images/cam{i % 50:02d}/day{i % 7}/frame_{i:08d}.{suffix}"
        etag = f"{(i * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:032x}"
        yield StoredObject(f"s3://{BUCKET}/{key}", BUCKET, key, size, etag, WHEN)


def _status_kb(field: str) -> int | None:
    """A ``VmRSS``/``VmHWM`` figure of this process from /proc, or None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """This process's peak RSS in MB.

    ``VmHWM`` rather than ``ru_maxrss``: Linux carries ``ru_maxrss`` across exec, and Python's subprocess
    spawns with vfork, so a child's ``ru_maxrss`` starts at its parent's peak (a 500 MB parent makes a bare
    ``python -c`` report 523 MB). ``VmHWM`` belongs to the new address space alone.
    """
    kb = _status_kb("VmHWM")
    if kb is None:  # macOS and BSDs: ru_maxrss is this process's own there (in bytes on macOS)
        scale = 1024 * 1024 if sys.platform == "darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale
    return kb / 1024


def one(case: str, count: int, folder: Path) -> dict[str, Any]:
    """Plan ``count`` synthetic objects for ``case`` into ``folder``; runs in the child process."""
    from airflow_ingest.core.plan import make_plan, path_opener
    from airflow_ingest.platforms import limits_for, manifest_builder

    platform, target = CASES[case]
    builder = manifest_builder(platform, target)
    limits = limits_for(platform)
    before_kb = _status_kb("VmRSS")
    started = time.perf_counter()
    plan = make_plan(synthetic_objects(count), builder, limits, path_opener(folder), layout="file")
    seconds = time.perf_counter() - started
    if (plan.objects, plan.items, plan.skipped_count) != (count, count, 0):
        raise AssertionError(f"{case}: {plan.objects} objects, {plan.items} items, {plan.skipped_count} skipped")
    return {
        "case": case,
        "objects": plan.objects,
        "items": plan.items,
        "batches": len(plan.batches),
        "seconds": seconds,
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_plan_mb": before_kb / 1024 if before_kb is not None else None,
    }


def spawn(case: str, count: int) -> dict[str, Any]:
    """One plan in a fresh interpreter, writing under bench/.logs; the folder is removed afterwards."""
    LOGS.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"plan-{case}-{count}-", dir=LOGS))
    try:
        argv = [sys.executable, "-m", "bench.plan", "--one", case, str(count), str(folder)]
        done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def source_seconds(count: int) -> float:
    """How long the generator alone takes: the share of each plan's time that is the synthetic listing's."""
    started = time.perf_counter()
    for _ in synthetic_objects(count):
        pass
    return time.perf_counter() - started


def summary(seconds: list[float]) -> dict[str, float]:
    return {"min": min(seconds), "median": statistics.median(seconds), "max": max(seconds)}


def figures(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One size's runs as the record keeps them: counts, time summary, throughput at the median, peak memory."""
    seconds = summary([r["seconds"] for r in runs])
    return {
        "objects": runs[0]["objects"],
        "items": runs[0]["items"],
        "batches": runs[0]["batches"],
        "seconds": seconds,
        "objects_per_s": runs[0]["objects"] / seconds["median"],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "rss_before_plan_mb": max(r["rss_before_plan_mb"] or 0.0 for r in runs),
    }


def run(quick: bool = False) -> dict[str, Any]:
    small, large = (100_000, 200_000) if quick else (1_000_000, 2_000_000)
    repeats = 1 if quick else 3
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {(c, n): [] for c in CASES for n in (small, large)}
    for _ in range(repeats):  # interleaved, so drift on a shared machine hits every case and size alike
        for case in CASES:
            for count in (small, large):
                runs[case, count].append(spawn(case, count))
    source = {small: source_seconds(small), large: source_seconds(large)}

    results: dict[str, Any] = {}
    for case, (platform, target) in CASES.items():
        base, scaled = figures(runs[case, small]), figures(runs[case, large])
        ratio = scaled["seconds"]["median"] / base["seconds"]["median"]
        met: dict[str, bool | None] = {
            # the time and memory targets are for 1,000,000 objects; --quick sizes cannot meet or miss them
            "seconds": None if quick else base["seconds"]["median"] < TARGET_SECONDS,
            "peak_rss": None if quick else base["peak_rss_mb"] < TARGET_PEAK_MB,
            "ratio": ratio <= TARGET_RATIO,
        }
        results[f"plan_{case}"] = {
            "command": "make bench",
            "platform": platform,
            "format": target.get("format", "json"),
            "layout": "file",
            "runs": repeats,
            **base,
            "source_s": source[small],
            "scaled": {**scaled, "source_s": source[large]},
            "ratio": ratio,
            "target": TARGET,
            "met": met,
        }
    return results


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        case, count, folder = argv[1], int(argv[2]), Path(argv[3])
        print(json.dumps(one(case, count, folder)))
        return 0
    print(json.dumps(run(quick="--quick" in argv), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
