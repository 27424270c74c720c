"""Register what sits under a bucket prefix into an annotation platform, from a form in the Airflow UI.

Trigger it with "Trigger DAG": the form asks for the source, the platform and its target, the layout,
filters and limits; "Dry run" stops after the plan (manifests and plan.json are written, nothing is sent).
The first task branches to the chosen platform's task group (list -> plan -> register -> report -> branch).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from airflow_ingest.operators.branching import BranchOnValueOperator
from airflow_ingest.platforms import platform_names, platforms
from airflow_ingest.task_groups import ingest_task_group

PLATFORMS = platforms()
PLATFORM_PARAMS = {  # each platform's own fields, in its own section: the registry declares them
    f.param_name(p.name): Param(f.default, section=p.label, **f.param_kwargs())
    for p in PLATFORMS
    for f in p.form_fields
}
CONN_HINT = f"Empty uses {', '.join(p.default_conn_id for p in PLATFORMS[:-1])} or {PLATFORMS[-1].default_conn_id}."

SOURCE = Param(
    "s3://demo-bucket/",
    type="string",
    title="Source",
    description="Where the files are: s3://bucket/prefix/, gs://bucket/prefix/ or az://container/prefix/.",
    pattern=r"^(s3|gs|az)://[a-z0-9][a-z0-9._-]{1,221}(/.*)?$",
    section="Source",
)

with DAG(
    dag_id="ingest_manual",
    description="Register cloud files into V7 Darwin, Encord or RedBrick AI, from a form",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    render_template_as_native_obj=True,
    tags=["airflow-ingest"],
    params={
        "source": SOURCE,
        "storage_conn_id": Param(
            None,
            type=["null", "string"],
            title="Storage connection",
            description="Empty uses aws_default, google_cloud_default or wasb_default (by the source's scheme).",
            section="Source",
        ),
        "layout": Param(
            "file",
            type="string",
            enum=["file", "folder", "study"],
            title="Items",
            values_display={
                "file": "one file, one item",
                "folder": "one leaf folder, one item (a DICOM series, an image group, video frames)",
                "study": "one first-level folder, one item; its sub-folders are series",
            },
            section="Source",
        ),
        "include": Param(
            [],
            type=["null", "array"],  # "null" makes the form show it optional: empty is valid
            items={"type": "string"},
            title="Include globs",
            description="Only keys matching one of these, e.g. **/*.dcm. Empty takes every supported file.",
            section="Source",
        ),
        "exclude": Param(
            [],
            type=["null", "array"],  # "null" makes the form show it optional: empty is valid
            items={"type": "string"},
            title="Exclude globs",
            description="Leave out keys matching any of these, e.g. **/thumbnails/**.",
            section="Source",
        ),
        "inventory": Param(
            None,
            type=["null", "string"],  # "null" makes the form show it optional: empty is valid
            title="S3 Inventory report",
            description=(
                "For buckets of millions of objects: read them from the bucket's S3 Inventory report instead of "
                "listing, e.g. s3://inventory-bucket/prefix/source-bucket/config-id/ (its newest report)."
            ),
            section="Source",
        ),
        "platform": Param(
            "darwin",
            type="string",
            enum=list(platform_names()),
            title="Platform",
            values_display={p.name: p.label for p in PLATFORMS},
            section="Platform",
        ),
        "platform_conn_id": Param(
            None,
            type=["null", "string"],
            title="Platform connection",
            description=CONN_HINT,
            section="Platform",
        ),
        **PLATFORM_PARAMS,
        "max_entries": Param(
            None,
            type=["null", "integer"],
            title="Items per batch",
            description="Empty takes the platform's default (V7 100 items per request, Encord 10,000, RedBrick 50).",
            minimum=1,
            maximum=10000,
            section="Limits",
        ),
        "max_bytes": Param(
            None,
            type=["null", "integer"],
            title="Bytes per batch",
            description="Cap on the bytes of files one batch references (Encord's default: 2 GB).",
            minimum=1,
            section="Limits",
        ),
        "register_tasks": Param(
            16,
            type="integer",
            title="Register tasks",
            description=(
                "How many mapped register tasks share the batches (each takes a contiguous range and resumes it "
                "after a retry); the platform's pool decides how many run at once."
            ),
            minimum=1,
            maximum=1024,
            section="Limits",
        ),
        "fail_on": Param(
            "any",
            type="string",
            enum=["any", "non_retryable", "never"],
            title="Fail the run on",
            values_display={
                "any": "any failed or blocked item",
                "non_retryable": "items a retry cannot fix",
                "never": "never (the report still lists them)",
            },
            section="Limits",
        ),
        "probe": Param(
            False,
            type="boolean",
            title="Probe files",
            description=(
                "Read each new file's header (images, DICOM) or run ffprobe (videos): Encord imageMetadata and "
                "videoMetadata, V7 read-only width/height, DICOM slices in header order. Needs the media extra."
            ),
            section="Media",
        ),
        "thumbnails": Param(
            False,
            type="boolean",
            title="Make thumbnails",
            description=(
                "V7 Darwin read-only storage: write 356x200 thumbnails and video frames under thumbnails/ in the "
                "bucket and reference them (probes too). Needs write access and ffmpeg for videos."
            ),
            section="Media",
        ),
        "dry_run": Param(
            False,
            type="boolean",
            title="Dry run",
            description="Plan only: write the manifests and plan.json, send nothing.",
            section="Run",
        ),
        "state": Param(
            None,
            type=["null", "string"],
            title="Ledger folder",
            description=(
                "Where to keep what was registered (a folder or object-storage URI, e.g. "
                "s3://aws_default@bucket/state). With it a run sends only new objects."
            ),
            section="Run",
        ),
    },
) as dag:
    common = {
        "source": "{{ params.source }}",
        "conn_id": "{{ params.storage_conn_id }}",
        "layout": "{{ params.layout }}",
        "include": "{{ params.include }}",
        "exclude": "{{ params.exclude }}",
        "inventory": "{{ params.inventory or '' }}",
        "max_entries": "{{ params.max_entries }}",
        "max_bytes": "{{ params.max_bytes }}",
        "register_tasks": "{{ params.register_tasks }}",
        "state": "{{ params.state or '' }}",
        "fail_on": "{{ params.fail_on }}",
        "dry_run": "{{ params.dry_run }}",
        "probe": "{{ params.probe }}",
        "thumbnails": "{{ params.thumbnails }}",
    }
    groups = [
        ingest_task_group(
            p.name,
            platform=p.name,
            target={f.name: f.template(p.name) for f in p.form_fields if f.in_target},
            platform_conn_id=f"{{{{ params.platform_conn_id or '{p.default_conn_id}' }}}}",
            register_kwargs={f.name: f.template(p.name) for f in p.form_fields if not f.in_target},
            pool=f"ingest_{p.name}",
            **common,
        )
        for p in PLATFORMS
    ]

    choose_platform = BranchOnValueOperator(  # only the chosen platform's group runs; the others are skipped
        task_id="choose_platform",
        value="{{ params.platform }}",
        branches={group.group_id: f"{group.group_id}.list" for group in groups},
    )
    choose_platform >> groups
