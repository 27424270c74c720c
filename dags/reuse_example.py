"""Reuse: the ingest task group twice in one DAG, and a downstream DAG that runs when items were registered.

``reuse_example`` registers two sources (say, camera frames in S3 and scans in GCS) into one V7 dataset with
two calls of :func:`ingest_task_group`; either group's ``announce`` task updates the dataset's Asset.
``reuse_example_downstream`` is scheduled on that Asset and reads what was registered from the report the
event points at (the event carries counts and a path, never item lists).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_ingest.task_groups import ingest_task_group, platform_asset

TARGET = {"dataset_slug": "demo-dataset", "storage_slug": "demo-storage"}
DATASET = platform_asset("darwin", TARGET)
START = pendulum.datetime(2026, 1, 1, tz="UTC")

with DAG(
    dag_id="reuse_example",
    description="Two sources into one V7 dataset with the reusable ingest task group",
    schedule=None,
    start_date=START,
    catchup=False,
    max_active_runs=1,
    tags=["airflow-ingest", "example"],
    params={
        "frames": Param("s3://demo-bucket/frames/", type="string", title="First source", pattern=r"^(s3|gs|az)://"),
        "frames_conn_id": Param(None, type=["null", "string"], title="Its storage connection"),
        "scans": Param("s3://demo-bucket/scans/", type="string", title="Second source", pattern=r"^(s3|gs|az)://"),
        "scans_conn_id": Param(None, type=["null", "string"], title="Its storage connection"),
    },
    render_template_as_native_obj=True,
):
    for name in ("frames", "scans"):
        ingest_task_group(
            name,
            source=f"{{{{ params.{name} }}}}",
            conn_id=f"{{{{ params.{name}_conn_id }}}}",
            platform="darwin",
            target=TARGET,
            platform_conn_id="darwin_default",
            layout="folder" if name == "scans" else "file",
            pool="ingest_darwin",  # both groups share the one V7 account's rate limit
            outlets=[DATASET],
        )

with DAG(
    dag_id="reuse_example_downstream",
    description="Runs when new items were registered into the demo V7 dataset",
    schedule=[DATASET],
    start_date=START,
    catchup=False,
    tags=["airflow-ingest", "example"],
):

    @task
    def read_registered(**context: object) -> dict[str, int]:
        """Stream the report each triggering event points at and count its registered items."""
        import csv

        from airflow.sdk import ObjectStoragePath

        counts: dict[str, int] = {}
        for events in context["triggering_asset_events"].values():  # type: ignore[attr-defined]
            for event in events:
                registered = 0
                with ObjectStoragePath(event.extra["report_csv"]).open("r", encoding="utf-8", newline="") as rows:
                    for row in csv.DictReader(rows):
                        if row["outcome"] == "registered":
                            registered += 1
                            if registered <= 5:
                                print(f"registered: {row['item']} ({row['objects']})")
                print(f"{registered} items registered by {event.source_dag_id} ({event.extra['report_csv']})")
                counts[event.extra["report_csv"]] = registered
        return counts

    read_registered()
