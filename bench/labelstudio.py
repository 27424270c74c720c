"""Label Studio benchmark (issue 21): tasks per second into the real server, next to its own storage sync.

The same bucket (moto S3) of ``OBJECTS`` images goes into two projects of one real Label Studio server
(``tests/labelstudio_server.py``): one by our registration (list, plan, and per batch of 1,000 a marker lookup
and one import, as the register task does), the other by Label Studio's own S3 source storage sync (``POST
/api/storages/s3/<id>/sync``, followed until its status is ``completed``). Both end with one task per object;
the figure is our tasks per second (listing and plan included, after one warm-up run that pays the imports)
over theirs. A second run of ours (every task found by its marker, none
sent) is timed too: it is what a retry or a re-run without the ledger costs.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.harness import REPO, MotoS3
from tests.labelstudio_server import LabelStudio

LOGS = REPO / "bench" / ".logs"
BUCKET = "ls-bench"
OBJECTS = 2000
QUICK_OBJECTS = 300


def ours(server: LabelStudio, s3: MotoS3, project: int) -> tuple[float, float]:
    """List, plan and register the bucket into ``project``: seconds in all, and for the registration alone."""
    from airflow_ingest.core.plan import make_plan, path_opener
    from airflow_ingest.core.urls import parse_source
    from airflow_ingest.platforms import SendContext, get_platform
    from airflow_ingest.storage.listing import list_objects

    platform = get_platform("labelstudio")
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        run = Path(folder)
        objects = list_objects(parse_source(f"s3://{BUCKET}/"), "aws_default")
        plan = make_plan(objects, platform.manifest_builder({}), platform.limits_for(), path_opener(run))
        sending = time.monotonic()
        send = platform.sender_for("ls_bench", {}, {"project_id": project})
        for number in range(1, len(plan.batches) + 1):
            outcomes = send(SendContext(run, plan, number))
            assert all(o.outcome.value in ("registered", "duplicate") for o in outcomes), outcomes[:3]
    ended = time.monotonic()
    return ended - began, ended - sending


def warm_up(server: LabelStudio, s3: MotoS3) -> None:
    """Import Airflow, boto and the hook once before anything is timed (seconds of a process's first run)."""
    project = server.project("bench warm-up")
    server.s3_storage(project, BUCKET, s3.url)
    ours(server, s3, project)


def their_sync(server: LabelStudio, s3: MotoS3, project: int, expected: int) -> float:
    """Label Studio's own S3 source storage sync of the bucket into ``project``; seconds until completed."""
    storage = server.s3_storage(project, BUCKET, s3.url, regex_filter=r".*\.jpg", recursive_scan=True)
    began = time.monotonic()
    server.api("POST", f"/api/storages/s3/{storage['id']}/sync", timeout=1800)  # Community syncs in the request
    while True:
        state = server.api("GET", f"/api/storages/s3/{storage['id']}")
        if state.get("status") in ("completed", "failed"):
            break
        time.sleep(0.2)
    seconds = time.monotonic() - began
    assert state["status"] == "completed", state.get("traceback")
    made = len(server.tasks(project))
    assert made == expected, f"Label Studio's sync made {made} tasks of {expected}"
    return seconds


def run(quick: bool = False) -> dict[str, Any]:
    objects = QUICK_OBJECTS if quick else OBJECTS
    s3 = MotoS3(LOGS)
    server = LabelStudio(LOGS / "labelstudio-data", LOGS)
    try:
        os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = s3.conn()
        os.environ["AIRFLOW_CONN_LS_BENCH"] = server.conn()
        s3.seed(BUCKET, [(f"images/{n:06d}.jpg", 2048) for n in range(objects)])
        warm_up(server, s3)
        ours_s, sending_s, again_s, theirs_s = [], [], [], []
        for _ in range(1 if quick else 3):
            ours_project, their_project = server.project("bench ours"), server.project("bench sync")
            server.s3_storage(ours_project, BUCKET, s3.url)  # what resolves our tasks' URLs
            total, sending = ours(server, s3, ours_project)
            ours_s.append(total)
            sending_s.append(sending)
            assert len(server.tasks(ours_project)) == objects
            again_s.append(ours(server, s3, ours_project)[0])
            assert len(server.tasks(ours_project)) == objects
            theirs_s.append(their_sync(server, s3, their_project, objects))
    finally:
        server.stop()
        s3.stop()
    ours_med, theirs_med = statistics.median(ours_s), statistics.median(theirs_s)
    return {
        "labelstudio_registration": {
            "objects": objects,
            "server": "label-studio 1.23.2 (SQLite) and moto S3 on loopback",
            "ours_s": times(ours_s),
            "ours_registration_only_s": times(sending_s),
            "ours_rerun_s": times(again_s),
            "label_studio_sync_s": times(theirs_s),
            "ours_tasks_per_s": round(objects / ours_med, 1),
            "label_studio_sync_tasks_per_s": round(objects / theirs_med, 1),
            "ratio": round(theirs_med / ours_med, 2),
            "target": "faster than LS's own sync",
            "met": None if quick else ours_med < theirs_med,
        }
    }


def times(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 2), "min": round(min(values), 2), "max": round(max(values), 2)}


def row(result: dict[str, Any]) -> tuple[str, str, str]:
    registering = result["ours_registration_only_s"]["median"]
    details = (
        f"{result['objects']:,} objects, {result['server']}: ours {result['ours_tasks_per_s']:,.0f} tasks/s "
        f"({result['ours_s']['median']:.2f} s with listing and plan, {registering:.2f} s registering; "
        f"a re-run finding every task {result['ours_rerun_s']['median']:.2f} s), Label Studio's S3 sync "
        f"{result['label_studio_sync_tasks_per_s']:,.0f} tasks/s ({result['label_studio_sync_s']['median']:.2f} s)"
    )
    return f"{result['ratio']:.1f}x faster", result["target"], details
