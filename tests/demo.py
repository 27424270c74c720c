"""`make demo`: the main job end to end on the embedded stack, twice, with a summary of what happened.

Starts moto server (S3) and the fake V7 Darwin on free loopback ports, seeds a bucket with a few thousand
objects of mixed types under nested prefixes, runs the ``ingest_manual`` DAG with ``airflow dags test`` on
an SQLite Airflow home in ``.demo/``, runs it again (everything comes back a duplicate), prints both
summaries and stops what it started.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from typing import Any

from tests.harness import REPO, AirflowHome, DagRunResult, FakeDarwin, MotoS3

OUT = REPO / ".demo"
BUCKET = "demo-bucket"


def demo_objects() -> list[tuple[str, int]]:
    """About 3,000 objects: camera frames, videos, DICOM slices, PDFs, sidecars that are not media, markers."""
    objects: list[tuple[str, int]] = []
    for site in ("berlin", "lyon", "porto"):
        for day in ("2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"):
            for cam in range(4):
                prefix = f"raw/{site}/{day}/cam{cam}"
                objects += [(f"{prefix}/frame_{i:04d}.jpg", 180_000 + i) for i in range(55)]
                objects += [(f"{prefix}/clip_{i}.mp4", 25_000_000 + i) for i in range(3)]
                objects.append((f"{prefix}/capture.json", 900))
            objects.append((f"raw/{site}/{day}/", 0))
    for study in range(8):
        objects += [(f"medical/study_{study:03d}/series_1/slice_{s}.dcm", 520_000) for s in range(1, 13)]
        objects.append((f"medical/study_{study:03d}/report.pdf", 64_000))
    return objects


def summarize(title: str, run: DagRunResult, seconds: float) -> dict[str, Any]:
    plan = json.loads((run.run_dir / "plan.json").read_text())
    totals = run.report()["totals"] if (run.run_dir / "report.json").exists() else {}
    print(f"\n{title}: run {run.run_id} -> {run.state} in {seconds:.1f} s")
    rows = [
        ("objects listed", plan["objects"]),
        ("skipped (not media)", plan["skipped_count"]),
        ("items", plan["items"]),
        ("batches", len(plan["batches"])),
        ("registered", totals.get("registered", 0)),
        ("duplicates", totals.get("duplicate", 0)),
        ("blocked", totals.get("blocked", 0)),
        ("failed", totals.get("failed", 0)),
    ]
    for label, value in rows:
        print(f"  {label:<22}{value:>8,}")
    print(f"  report                {run.run_dir / 'report.csv'}")
    return totals


def main() -> int:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    started = []
    try:
        s3 = MotoS3(OUT / "logs")
        started.append(s3)
        darwin = FakeDarwin(OUT / "logs")
        started.append(darwin)
        print(f"moto S3 on {s3.url}, fake V7 Darwin on {darwin.url}")
        count = s3.seed(BUCKET, demo_objects())
        print(f"seeded s3://{BUCKET} with {count:,} objects")
        home = AirflowHome(OUT / "airflow-home", {"aws_default": s3.conn(), "darwin_default": darwin.conn()})
        home.migrate()
        conf = {"source": f"s3://{BUCKET}/", "platform": "darwin"}

        clock = time.monotonic()
        first = home.dags_test("ingest_manual", conf)
        first_totals = summarize("First run", first, time.monotonic() - clock)

        clock = time.monotonic()
        second = home.dags_test("ingest_manual", conf)
        second_totals = summarize("Second run (same bucket, same dataset)", second, time.monotonic() - clock)

        held = len(darwin.state()["registered"])
        print(f"\nThe fake V7 dataset holds {held:,} items, each registered once.")
        if second_totals.get("registered") == 0 and second_totals.get("duplicate") == first_totals.get("registered"):
            print("The second run registered nothing new: every item came back ALREADY_EXISTS (a duplicate).")
        ok = first.state == second.state == "success" and held == first_totals.get("registered")
        if not ok:
            print(f"Something went wrong; Airflow's output is in the run logs under {home.path}", file=sys.stderr)
        return 0 if ok else 1
    finally:
        for service in reversed(started):
            service.stop()


if __name__ == "__main__":
    sys.exit(main())
