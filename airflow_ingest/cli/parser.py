"""The ``airflow-ingest`` command line: its commands and options (what ``--help`` shows).

Platform options are grouped per platform; the plan's are read back into a target by
:func:`airflow_ingest.cli.inputs.target_from`, the register flags come from each platform's declaration.
"""

from __future__ import annotations

import argparse

from airflow_ingest.platforms import add_cli_options, platform_names

DESCRIPTION = "``airflow-ingest``: the pipeline from a shell, for previews and scripts."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="airflow-ingest", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)
    ls = commands.add_parser("ls", help="list a source as JSON lines, in key order")
    ls.add_argument("source", help="s3://bucket[/prefix], gs://bucket[/prefix], az://container[/prefix] or file:///dir")
    add_listing_options(ls)

    plan = commands.add_parser("plan", help="write the platform's manifests for a source; nothing is sent")
    plan.add_argument("source", help="s3://bucket[/prefix], gs://bucket[/prefix] or az://container[/prefix]")
    plan.add_argument("--platform", required=True, choices=platform_names())
    plan.add_argument("--out", required=True, help="folder for batch-00001.json (or .csv) ... and plan.json")
    add_listing_options(plan)
    add_plan_options(plan)

    sync = commands.add_parser("sync", help="list, select what is new, plan, register, report, commit the ledger")
    sync.add_argument("source", help="s3://bucket[/prefix], gs://bucket[/prefix] or az://container[/prefix]")
    sync.add_argument("--platform", required=True, choices=platform_names())
    sync.add_argument("--platform-conn-id", required=True, help="the platform's Airflow connection")
    sync.add_argument("--state", required=True, help="where ledgers live: a folder or an object-storage URI")
    sync.add_argument("--sync-name", help="the ledger's folder (default: one per destination and bucket)")
    sync.add_argument(
        "--keep-ledgers", type=int, default=3, metavar="N", help="ledger files kept after a commit (at least 2)"
    )
    sync.add_argument("--runs", default="airflow-ingest-runs", help="folder for each run's manifests and report")
    sync.add_argument("--on-change", choices=["report", "resend"], default="report", help="objects with a new etag")
    add_listing_options(sync)
    add_plan_options(sync)
    add_cli_options(sync)  # each platform's register flags (--folder, --project-id, ...)

    ledger = commands.add_parser("ledger", help="inspect or repair a sync's ledger")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True)
    repair = ledger_commands.add_parser(
        "repair", help="point HEAD.json at the newest intact ledger file, adding runs whose commits were lost"
    )
    repair.add_argument("--state", required=True, help="where ledgers live, as given to sync")
    repair.add_argument("--sync-name", required=True, help="the ledger's folder under --state (errors name it)")
    repair.add_argument("--ledger", help="adopt this ledger file (default: the newest that reads intact)")
    repair.add_argument(
        "--from-run", action="append", default=[], metavar="RUN_DIR", help="add what this run registered (repeatable)"
    )
    repair.add_argument("--allow-empty", action="store_true", help="start an empty ledger when no file is intact")
    return parser


def add_listing_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--conn-id", help="the storage connection (default: aws_default, google_cloud_default, wasb_default)"
    )
    parser.add_argument("--glob", action="append", default=[], metavar="PAT", help="keep keys matching (repeatable)")
    parser.add_argument("--exclude", action="append", default=[], metavar="PAT", help="drop keys matching (repeatable)")
    parser.add_argument("--min-size", type=int, metavar="N", help="smallest size in bytes")
    parser.add_argument("--max-size", type=int, metavar="N", help="largest size in bytes")
    parser.add_argument("--modified-since", metavar="T", help="ISO 8601 with a timezone, e.g. 2026-11-01T00:00:00Z")
    parser.add_argument("--modified-before", metavar="T", help="ISO 8601 with a timezone")
    parser.add_argument("--parallel", type=int, default=1, metavar="N", help="list sub-prefixes on N threads")
    parser.add_argument(
        "--inventory",
        metavar="URI",
        help="read the objects from this S3 Inventory report instead of listing "
        "(s3://dest-bucket/prefix/source-bucket/config-id/)",
    )


def add_plan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--layout", default="file", choices=["file", "folder", "study"], help="how files group into items"
    )
    parser.add_argument("--max-entries", type=int, metavar="N", help="entries per batch (platform default)")
    parser.add_argument("--max-bytes", type=int, metavar="N", help="bytes of referenced files per batch")
    darwin = parser.add_argument_group("V7 Darwin")
    darwin.add_argument("--dataset", help="dataset slug")
    darwin.add_argument("--storage", help="name of V7's external storage connection")
    darwin.add_argument("--fps", type=float, help="frames per second to sample videos at")
    darwin.add_argument("--ignore-dicom-layout", action="store_true", help="keep DICOM slices in the order sent")
    darwin.add_argument("--readonly", action="store_true", help="register_existing_readonly (read-only storage)")
    media = parser.add_argument_group("media (the media extra; videos need ffmpeg)")
    media.add_argument(
        "--probe",
        action="store_true",
        help="read each file's header: Darwin read-only width/height, Encord imageMetadata/videoMetadata, "
        "DICOM slice order from headers",
    )
    media.add_argument(
        "--thumbnails",
        action="store_true",
        help="with --readonly: write thumbnails and video frames to the bucket (implies --probe)",
    )
    media.add_argument("--probe-cache", metavar="DIR", help="probe cache folder (default under $AIRFLOW_HOME)")
    media.add_argument("--probe-workers", type=int, default=4, metavar="N", help="files probed at once")
    media.add_argument("--max-frames", type=int, default=1000, metavar="N", help="frames extracted per video")
    encord = parser.add_argument_group("Encord")
    encord.add_argument("--format", choices=["json", "csv"], default="json")
    encord.add_argument("--skip-duplicate-urls", action=argparse.BooleanOptionalAction, default=True)
    encord.add_argument("--create-video", action="store_true", help="image folders become image sequences")
    encord.add_argument("--url-style", choices=["virtual-hosted", "path", "protocol", "mrap", "https"])
    encord.add_argument("--region", help="S3 region for URLs (default: the bucket's location)")
    encord.add_argument("--access-point-arn", help="S3 Multi-Region Access Point ARN, with --url-style mrap")
    redbrick = parser.add_argument_group("RedBrick AI")
    redbrick.add_argument("--storage-id", help="the storage method's id (11111111-... for public URLs)")
    redbrick.add_argument("--form", choices=["series", "flat"], default="series", help="items-list form")
    labelstudio = parser.add_argument_group("Label Studio")
    labelstudio.add_argument("--data-key", help="the labeling config's $name for the files (default: from the config)")
