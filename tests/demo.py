"""`make demo`: the main jobs end to end on the embedded stack, with a summary of what happened.

Starts moto server (S3), the fake V7 Darwin, the fake Encord, the fake RedBrick and the real Label Studio server
(``make sdks`` builds its venv; a project with an S3 storage on moto) on free loopback ports, seeds a bucket with
a few thousand objects of mixed types under nested prefixes, and on an SQLite Airflow home in ``.demo/`` runs
with ``airflow dags test``: ``ingest_manual`` once per platform, then ``nightly_sync`` twice (the second night
sends nothing). Prints every summary and stops what it started.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Iterable
from typing import Any

from tests.fakes.encord import FOLDER, INTEGRATION, FakeEncord
from tests.fakes.redbrick import FakeRedBrick
from tests.harness import REPO, AirflowHome, DagRunResult, FakeDarwin, MotoS3
from tests.labelstudio_server import LabelStudio

OUT = REPO / ".demo"
BUCKET = "demo-bucket"
NIGHTLY_TARGET = {"dataset_slug": "nightly-dataset", "storage_slug": "demo-storage"}


def demo_objects(
    sites: Iterable[str] = ("berlin", "lyon", "porto"),
    days: Iterable[str] = ("2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"),
    cams: int = 4,
    frames: int = 55,
    clips: int = 3,
    studies: int = 8,
    slices: int = 12,
) -> list[tuple[str, int]]:
    """About 3,000 objects by default: camera frames, videos, DICOM slices, PDFs, sidecars that are not media,
    folder markers. Per (site, day, cam): ``frames`` frames, ``clips`` clips and one ``capture.json``."""
    objects: list[tuple[str, int]] = []
    for site in sites:
        for day in days:
            for cam in range(cams):
                prefix = f"raw/{site}/{day}/cam{cam}"
                objects += [(f"{prefix}/frame_{i:04d}.jpg", 180_000 + i) for i in range(frames)]
                objects += [(f"{prefix}/clip_{i}.mp4", 25_000_000 + i) for i in range(clips)]
                objects.append((f"{prefix}/capture.json", 900))
            objects.append((f"raw/{site}/{day}/", 0))
    for study in range(studies):
        objects += [(f"medical/study_{study:03d}/series_1/slice_{s}.dcm", 520_000) for s in range(1, slices + 1)]
        objects.append((f"medical/study_{study:03d}/report.pdf", 64_000))
    return objects


def summarize(title: str, run: DagRunResult, seconds: float) -> dict[str, Any]:
    plan = json.loads((run.run_dir / "plan.json").read_text())
    totals = run.report()["totals"] if (run.run_dir / "report.json").exists() else {}
    print(f"\n{title}: run {run.run_id} -> {run.state} in {seconds:.1f} s")
    rows = [
        ("objects planned", plan["objects"]),
        ("skipped (with reason)", plan["skipped_count"]),
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
    started: list[Any] = []
    try:
        s3 = MotoS3(OUT / "logs")
        started.append(s3)
        darwin, encord, redbrick = FakeDarwin(OUT / "logs"), FakeEncord(OUT / "logs"), FakeRedBrick(OUT / "logs")
        started += [darwin, encord, redbrick]
        print(f"moto S3 on {s3.url}; fake V7 Darwin {darwin.url}, Encord {encord.url}, RedBrick {redbrick.url}")
        darwin.configure(datasets=["demo-dataset", "nightly-dataset"])
        count = s3.seed(BUCKET, demo_objects())
        print(f"seeded s3://{BUCKET} with {count:,} objects")
        labelstudio = LabelStudio(OUT / "labelstudio-data", OUT / "logs")
        started.append(labelstudio)
        ls_project = labelstudio.project("airflow-ingest demo")
        labelstudio.s3_storage(ls_project, BUCKET, s3.url)
        print(f"Label Studio {labelstudio.url}: project {ls_project} reads s3://{BUCKET} through its S3 storage")
        connections = {
            "aws_default": s3.conn(),
            "darwin_default": darwin.conn(),
            "encord_default": encord.conn(),
            "redbrick_default": redbrick.conn(),
            "labelstudio_default": labelstudio.conn(),
        }
        home = AirflowHome(OUT / "airflow-home", connections)
        home.migrate()
        source = {"source": f"s3://{BUCKET}/"}
        runs = [
            ("ingest_manual into V7 Darwin", "ingest_manual", {**source, "platform": "darwin"}, {}),
            (
                "ingest_manual into Encord (a storage folder)",
                "ingest_manual",
                {**source, "platform": "encord", "encord_folder_uuid": FOLDER, "encord_integration_id": INTEGRATION},
                {},
            ),
            (
                "ingest_manual into RedBrick AI (DICOM studies under medical/)",
                "ingest_manual",
                {
                    "source": f"s3://{BUCKET}/medical/",
                    "platform": "redbrick",
                    "layout": "study",
                    "include": ["**/*.dcm"],
                    "redbrick_storage_id": FakeRedBrick.STORAGE_ID,
                    "redbrick_project_id": FakeRedBrick.PROJECT_ID,
                },
                {},
            ),
            (
                "ingest_manual into Label Studio (one site's camera frames, the real server)",
                "ingest_manual",
                {
                    "source": f"s3://{BUCKET}/raw/berlin/",
                    "platform": "labelstudio",
                    "include": ["**/*.jpg"],
                    "labelstudio_project_id": ls_project,
                },
                {},
            ),
        ]
        nightly = {
            "AIRFLOW_INGEST_NIGHTLY_SOURCE": f"s3://{BUCKET}/raw/",
            "AIRFLOW_INGEST_NIGHTLY_TARGET": json.dumps(NIGHTLY_TARGET),
            "AIRFLOW_INGEST_NIGHTLY_STATE": f"file://{OUT / 'state'}",
        }
        runs += [("nightly_sync, first night", "nightly_sync", {}, nightly)]
        runs += [("nightly_sync, second night (nothing new)", "nightly_sync", {}, nightly)]

        results = []
        try:
            for title, dag_id, conf, env in runs:
                clock = time.monotonic()
                run = home.dags_test(dag_id, conf, **env)
                results.append((run, summarize(title, run, time.monotonic() - clock)))
        finally:
            home.close()

        held = {
            "V7 Darwin": len(darwin.state()["registered"]),
            "Encord": sum(len(urls) for urls in encord.state()["registered"].values()),
            "RedBrick AI": len(redbrick.tasks(FakeRedBrick.PROJECT_ID)),
            "Label Studio (real)": len(labelstudio.tasks(ls_project)),
        }
        print("\nThe platforms now hold: " + ", ".join(f"{name} {count:,}" for name, count in held.items()))
        last = results[-1][1]
        if last.get("items") == 0:
            print("The second night listed the bucket, found nothing new in the ledger, and sent no request.")
        ok = all(run.state == "success" for run, _ in results) and last.get("items") == 0
        if not ok:
            print(f"Something went wrong; Airflow's output is in the run logs under {home.path}", file=sys.stderr)
        return 0 if ok else 1
    finally:
        for service in reversed(started):
            service.stop()


if __name__ == "__main__":
    sys.exit(main())
