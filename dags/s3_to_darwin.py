"""Register the objects under an S3 prefix as items of a V7 Darwin dataset.

list -> plan (batches and manifests written to the run's workspace; with a ledger, only what is new) ->
register (one mapped task per batch) -> report -> commit to the ledger, and branch to ``success`` or
``failures``. XCom carries paths and counts only.
"""

from __future__ import annotations

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Param

from airflow_ingest.operators.darwin import DarwinRegisterOperator
from airflow_ingest.operators.ledger import LedgerCommitOperator
from airflow_ingest.operators.listing import ListObjectsOperator
from airflow_ingest.operators.planning import PlanBatchesOperator
from airflow_ingest.operators.reporting import IngestBranchOperator, IngestFailuresOperator, IngestReportOperator

with DAG(
    dag_id="s3_to_darwin",
    description="Register S3 objects into a V7 Darwin dataset",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    render_template_as_native_obj=True,
    tags=["airflow-ingest", "darwin", "s3"],
    params={
        "bucket": Param(
            "demo-bucket",
            type="string",
            title="S3 bucket",
            description="The bucket that holds the files (the one V7's storage connection points at).",
            pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
            section="Source",
        ),
        "prefix": Param(
            "",
            type="string",
            title="Key prefix",
            description="Only keys under this prefix, for example 'images/2026/'. Empty lists the whole bucket.",
            pattern=r"^[^/].*$|^$",
            section="Source",
        ),
        "aws_conn_id": Param("aws_default", type="string", title="AWS connection", minLength=1, section="Source"),
        "layout": Param(
            "file",
            type="string",
            enum=["file", "folder", "study"],
            title="Items",
            values_display={
                "file": "one file, one item",
                "folder": "one folder, one item (slots; DICOM slices share one)",
                "study": "one first-level folder, one item; its sub-folders are series",
            },
            section="Source",
        ),
        "dataset_slug": Param(
            "demo-dataset",
            type="string",
            title="Darwin dataset slug",
            description="The dataset's slug, as in its V7 URL.",
            pattern=r"^[a-z0-9][a-z0-9_-]*$",
            section="V7 Darwin",
        ),
        "storage_slug": Param(
            "demo-storage",
            type="string",
            title="Darwin storage name",
            description="The name of the external storage connection in V7's settings.",
            minLength=1,
            section="V7 Darwin",
        ),
        "darwin_conn_id": Param(
            "darwin_default", type="string", title="Darwin connection", minLength=1, section="V7 Darwin"
        ),
        "max_items_per_request": Param(
            100,
            type="integer",
            title="Items per request",
            description="V7 documents at most 100 items per registration request.",
            minimum=1,
            maximum=100,
            section="Limits",
        ),
        "max_bytes_per_batch": Param(
            None,
            type=["null", "integer"],
            title="Bytes per batch",
            description="Optional cap on the bytes of files referenced by one request.",
            minimum=1,
            section="Limits",
        ),
        "state": Param(
            None,
            type=["null", "string"],
            title="Ledger folder",
            description=(
                "Where to keep what was registered (a folder or object-storage URI, e.g. "
                "s3://aws_default@bucket/state). With it, a run sends only new objects. "
                "Empty: every object is sent, and V7 reports duplicates."
            ),
            section="Sync",
        ),
        "sync_name": Param(
            None,
            type=["null", "string"],
            title="Ledger name",
            description="One ledger per V7 dataset and bucket; empty derives it from them.",
            section="Sync",
        ),
        "fail_on": Param(
            "any",
            type="string",
            enum=["any", "non_retryable", "never"],
            title="Fail the run on",
            values_display={
                "any": "any failed or blocked item",
                "non_retryable": "items a retry cannot fix",
                "never": "never",
            },
            section="Limits",
        ),
    },
) as dag:
    listing = ListObjectsOperator(
        task_id="list",
        source="s3://{{ params.bucket }}/{{ params.prefix }}",
        conn_id="{{ params.aws_conn_id }}",
    )
    plan = PlanBatchesOperator(
        task_id="plan",
        objects_path=listing.output["objects_path"],
        platform="darwin",
        target={"dataset_slug": "{{ params.dataset_slug }}", "storage_slug": "{{ params.storage_slug }}"},
        layout="{{ params.layout }}",
        max_entries="{{ params.max_items_per_request }}",
        max_bytes="{{ params.max_bytes_per_batch }}",
        state="{{ params.state or '' }}",
        sync_name="{{ params.sync_name or '' }}",
    )
    register = DarwinRegisterOperator.partial(
        task_id="register",
        darwin_conn_id="{{ params.darwin_conn_id }}",
        map_index_template="{{ task.manifest.rsplit('/', 1)[-1] }}",
    ).expand(manifest=plan.output)
    report = IngestReportOperator(task_id="report", run_dir=plan.output["run_dir"])
    commit = LedgerCommitOperator(
        task_id="commit",
        run_dir=plan.output["run_dir"],
        state="{{ params.state or '' }}",
        sync_name="{{ params.sync_name or '' }}",
        platform="darwin",
        target={"dataset_slug": "{{ params.dataset_slug }}", "storage_slug": "{{ params.storage_slug }}"},
    )
    branch = IngestBranchOperator(
        task_id="branch", report=report.output, success_task_ids="success", failure_task_ids="failures"
    )
    success = EmptyOperator(task_id="success")
    failures = IngestFailuresOperator(task_id="failures", report=report.output, fail_on="{{ params.fail_on }}")

    register >> report >> [commit, branch]
    branch >> [success, failures]
