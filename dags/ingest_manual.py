"""Register what sits under a bucket prefix into an annotation platform, from a form in the Airflow UI.

Trigger it with "Trigger DAG": the form asks for the source, the platform and its target, the layout,
filters and limits; "Dry run" stops after the plan (manifests and plan.json are written, nothing is sent).
The first task branches to the chosen platform's task group (list -> plan -> register -> report -> branch).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from airflow_ingest.operators.branching import BranchOnValueOperator
from airflow_ingest.task_groups import ingest_task_group

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
            enum=["darwin", "encord", "redbrick", "labelstudio"],
            title="Platform",
            values_display={
                "darwin": "V7 Darwin",
                "encord": "Encord",
                "redbrick": "RedBrick AI",
                "labelstudio": "Label Studio",
            },
            section="Platform",
        ),
        "platform_conn_id": Param(
            None,
            type=["null", "string"],
            title="Platform connection",
            description="Empty uses darwin_default, encord_default, redbrick_default or labelstudio_default.",
            section="Platform",
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
        "encord_folder_uuid": Param(
            None,
            type=["null", "string"],
            title="Encord storage folder",
            description="The folder's UUID (Index). Give this or a dataset.",
            section="Encord",
        ),
        "encord_dataset_hash": Param(
            None,
            type=["null", "string"],
            title="Encord dataset",
            description="The dataset's hash (Annotate). Give this or a folder.",
            section="Encord",
        ),
        "encord_integration_id": Param(
            None,
            type=["null", "string"],
            title="Encord integration",
            description="The cloud integration's id that can read the bucket.",
            section="Encord",
        ),
        "encord_url_style": Param(
            None,
            type=["null", "string"],
            enum=[None, "virtual-hosted", "path", "protocol", "https"],
            values_display={
                None: "the cloud's default",
                "virtual-hosted": "https://bucket.s3.region.amazonaws.com/key",
                "path": "https://s3.region.amazonaws.com/bucket/key",
                "protocol": "s3:// or gs://",
                "https": "https:// (GCS, Azure)",
            },
            title="Object URL form",
            description="How the spec spells object URLs; empty takes the cloud's default.",
            section="Encord",
        ),
        "redbrick_project_id": Param(
            None,
            type=["null", "string"],
            title="RedBrick project",
            description="The project's id; empty uses the connection's extra.project_id.",
            section="RedBrick AI",
        ),
        "redbrick_storage_id": Param(
            "11111111-1111-1111-1111-111111111111",
            type="string",
            title="RedBrick storage method",
            description="The storage method's UUID from RedBrick's Storage tab (1111... is public URLs).",
            pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
            section="RedBrick AI",
        ),
        "labelstudio_project_id": Param(
            None,
            type=["null", "integer"],
            title="Label Studio project id",
            description="The number in the project's URL (/projects/<id>/); empty: the connection's extra.project_id.",
            section="Label Studio",
        ),
        "labelstudio_data_key": Param(
            None,
            type=["null", "string"],
            title="Label Studio data key",
            description="The labeling config's $name for the files (e.g. image); empty takes it from the config.",
            section="Label Studio",
        ),
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
    darwin = ingest_task_group(
        "darwin",
        platform="darwin",
        target={"dataset_slug": "{{ params.dataset_slug }}", "storage_slug": "{{ params.storage_slug }}"},
        platform_conn_id="{{ params.platform_conn_id or 'darwin_default' }}",
        pool="ingest_darwin",
        **common,
    )

    encord = ingest_task_group(
        "encord",
        platform="encord",
        target={"url_style": "{{ params.encord_url_style }}"},
        platform_conn_id="{{ params.platform_conn_id or 'encord_default' }}",
        register_kwargs={
            "folder_uuid": "{{ params.encord_folder_uuid }}",
            "dataset_hash": "{{ params.encord_dataset_hash }}",
            "integration_id": "{{ params.encord_integration_id }}",
        },
        pool="ingest_encord",
        **common,
    )
    redbrick = ingest_task_group(
        "redbrick",
        platform="redbrick",
        target={"storage_id": "{{ params.redbrick_storage_id }}"},
        platform_conn_id="{{ params.platform_conn_id or 'redbrick_default' }}",
        register_kwargs={"project_id": "{{ params.redbrick_project_id }}"},
        pool="ingest_redbrick",
        **common,
    )
    labelstudio = ingest_task_group(
        "labelstudio",
        platform="labelstudio",
        target={"data_key": "{{ params.labelstudio_data_key or '' }}"},
        platform_conn_id="{{ params.platform_conn_id or 'labelstudio_default' }}",
        register_kwargs={"project_id": "{{ params.labelstudio_project_id or '' }}"},
        pool="ingest_labelstudio",
        **common,
    )

    choose_platform = BranchOnValueOperator(  # only the chosen platform's group runs; the others are skipped
        task_id="choose_platform",
        value="{{ params.platform }}",
        branches={group.group_id: f"{group.group_id}.list" for group in (darwin, encord, redbrick, labelstudio)},
    )
    choose_platform >> [darwin, encord, redbrick, labelstudio]
