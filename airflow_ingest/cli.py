"""``airflow-ingest``: the pipeline from a shell, for previews and scripts.

``ls`` prints one JSON object per line on stdout, in key order. Progress and a closing summary go to
stderr: a live counter on a terminal, a line every few seconds otherwise. Connections come from Airflow
as usual (``AIRFLOW_CONN_*`` variables, a secrets backend, or the metadata database).

Exit codes: 0 done (for ``sync``: every item registered or already there), 1 a failure that stopped the
run (the last stderr line says which), 2 bad usage (a bad URI, glob, size, time or target), 3 ``sync``
finished but some items failed or were blocked (the report's path is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeVar

from airflow_ingest.core.errors import ConfigError, IngestError
from airflow_ingest.core.filters import Filters, own_folder_prefixes, parse_when
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.plan import ManifestBuilder, Plan
from airflow_ingest.core.urls import Scheme, Source, parse_source
from airflow_ingest.platforms import SendContext, add_cli_options, cli_values, get_platform, platform_names

if TYPE_CHECKING:
    from airflow_ingest.media.stage import MediaStage

T = TypeVar("T")
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PROBLEMS = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C


class Progress:
    """Counts what streams past and reports on stderr without slowing the stream down."""

    def __init__(self, what: str, stream: TextIO | None = None, every: float = 5.0) -> None:
        self.what = what
        self.stream = stream or sys.stderr
        self.every = every
        self.live = self.stream.isatty()
        self.count = 0
        self.bytes = 0
        self.started = time.monotonic()
        self._next = self.started + (0.2 if self.live else every)

    def track(self, objects: Iterable[StoredObject]) -> Iterator[StoredObject]:
        for obj in objects:
            self.count += 1
            self.bytes += obj.size
            if self.count & 1023 == 0 and time.monotonic() >= self._next:
                self._report()
            yield obj

    def _report(self) -> None:
        now = time.monotonic()
        rate = self.count / max(now - self.started, 1e-9)
        text = f"{self.what}: {self.count:,} objects, {_human(self.bytes)} ({rate:,.0f}/s)"
        if self.live:
            self.stream.write(f"\r{text}\x1b[K")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self._next = now + (0.2 if self.live else self.every)

    def finish(self, complete: bool) -> None:
        seconds = time.monotonic() - self.started
        if self.live:
            self.stream.write("\r\x1b[K")
        state = "" if complete else "INCOMPLETE, stopped by the error below: "
        totals = f"{self.count:,} objects, {self.bytes:,} bytes ({_human(self.bytes)})"
        self.stream.write(f"{self.what}: {state}{totals} in {seconds:.2f} s\n")
        self.stream.flush()


def _human(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{size:,.1f} PB"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="airflow-ingest", description=__doc__.splitlines()[0] if __doc__ else None)
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


def target_from(args: argparse.Namespace) -> dict[str, object]:
    """The platform's target from the command line; the platform's own model validates it."""
    if args.platform == "darwin":
        target = {"dataset_slug": args.dataset, "storage_slug": args.storage, "fps": args.fps}
        target["ignore_dicom_layout"] = args.ignore_dicom_layout
        target["readonly"] = args.readonly
    elif args.platform == "encord":
        target = {
            "format": args.format,
            "skip_duplicate_urls": args.skip_duplicate_urls,
            "create_video": args.create_video,
            "url_style": args.url_style,
            "region": args.region,
            "access_point_arn": args.access_point_arn,
        }
    else:
        target = {"storage_id": args.storage_id, "form": args.form, "url_style": args.url_style, "region": args.region}
    return {key: value for key, value in target.items() if value is not None}


def plan_inputs(
    args: argparse.Namespace, target: dict[str, object], objects: Iterator[StoredObject]
) -> tuple[ManifestBuilder, Iterator[StoredObject], MediaStage | None]:
    """The builder and the objects for ``make_plan``: with ``--probe``/``--thumbnails``, through the media stage."""
    from airflow_ingest.platforms import manifest_builder

    if not (args.probe or args.thumbnails):
        return manifest_builder(args.platform, target), objects, None
    from airflow_ingest.media.stage import plan_media

    return plan_media(
        args.platform,
        target,
        parse_source(args.source),
        objects,
        conn_id=args.conn_id,
        thumbnails=args.thumbnails,
        cache_folder=args.probe_cache,
        workers=args.probe_workers,
        max_frames=args.max_frames,
    )


def media_summary(stage: MediaStage | None) -> dict[str, object]:
    if stage is None:
        return {}
    print(f"media: {json.dumps(stage.stats.to_json())}", file=sys.stderr)
    return {"media": stage.stats.to_json()}


def run_plan(args: argparse.Namespace, out: TextIO) -> int:
    from pathlib import Path

    from airflow_ingest.core.items import parse_layout
    from airflow_ingest.core.plan import clear_plan, make_plan, path_opener
    from airflow_ingest.platforms import limits_for
    from airflow_ingest.storage.listing import complete_target

    source = parse_source(args.source)
    layout = parse_layout(args.layout)
    limits = limits_for(args.platform, args.max_entries, args.max_bytes)
    objects = listing_from(args)
    target = complete_target(args.platform, target_from(args), source, args.conn_id)
    progress = Progress("plan")
    builder, objects, stage = plan_inputs(args, target, progress.track(objects))
    folder = Path(args.out)
    stale = clear_plan(folder, manifest_dir="")
    if stale:
        print(f"note: removed {stale} files of an earlier plan in {folder}", file=sys.stderr)
    complete = False
    try:
        plan = make_plan(
            objects,
            builder,
            limits,
            path_opener(folder),
            layout=layout,
            prefix=source.prefix,
            manifest_dir="",
        )
        complete = True
    finally:
        progress.finish(complete)
    for line in plan.rejected:
        print(f"warning: no batch can hold it, skipped: {line}", file=sys.stderr)
    summary = {
        "platform": plan.platform,
        "objects": plan.objects,
        "items": plan.items,
        "skipped": plan.skipped_count,
        "batches": len(plan.batches),
        "plan": str(folder / "plan.json"),
        **media_summary(stage),
    }
    out.write(json.dumps(summary) + "\n")
    return EXIT_OK


def run_sync(args: argparse.Namespace, out: TextIO) -> int:
    from datetime import datetime, timezone
    from pathlib import Path

    from airflow_ingest.core.items import parse_layout
    from airflow_ingest.core.ledger import OnChange, select, sorted_entries
    from airflow_ingest.core.plan import make_plan, path_opener
    from airflow_ingest.core.report import outcome_path, registered_entries, write_outcomes, write_report
    from airflow_ingest.hooks.ledger_destination import store_for
    from airflow_ingest.platforms import limits_for
    from airflow_ingest.storage.listing import complete_target

    source = parse_source(args.source)
    layout = parse_layout(args.layout)
    limits = limits_for(args.platform, args.max_entries, args.max_bytes)
    target = complete_target(args.platform, target_from(args), source, args.conn_id)
    objects = listing_from(args)
    register_args = {"platform_conn_id": args.platform_conn_id, **cli_values(args.platform, args)}
    # reads the platform connection: a malformed one stops here, before anything is listed
    send = get_platform(args.platform).sender_for(args.platform_conn_id, target, register_args)
    store = store_for(args.state, args.sync_name, args.platform, target, source, register_args, keep=args.keep_ledgers)
    store.ensure_writable()  # before anything is sent: a commit that cannot land would send it all again
    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    run = Path(args.runs) / run_id
    run.mkdir(parents=True, exist_ok=True)

    progress = Progress("sync")
    complete = False
    try:
        wanted, selection = select(
            progress.track(objects),
            store.entries(),
            scope=source.object_url(source.prefix),
            exhaustive=not (args.glob or args.exclude or args.min_size or args.max_size or args.modified_since
                            or args.modified_before),
            on_change=OnChange(args.on_change),
        )  # fmt: skip
        builder, wanted, stage = plan_inputs(args, target, wanted)
        plan = make_plan(wanted, builder, limits, path_opener(run), layout=layout, prefix=source.prefix)
        for number, batch in enumerate(plan.batches, start=1):
            write_outcomes(outcome_path(run / batch.path), send(SendContext(run, plan, number)))
            print(f"sync: batch {number}/{len(plan.batches)} registered", file=sys.stderr)
        complete = True
    finally:
        progress.finish(complete)

    cut = get_platform(plan.platform).retry_cut(run, plan)
    totals, retry = write_report(
        run, plan, retry=cut, run_id=run_id, platform=plan.platform, selection=selection.counts
    )
    head = store.commit(run_id, sorted_entries(registered_entries(run, plan)))
    summary = {
        "listed": progress.count,
        **selection.counts,
        "items": plan.items,
        "skipped": plan.skipped_count,
        "batches": len(plan.batches),
        **{k: v for k, v in totals.items() if k != "items"},
        "ledger_entries": head["entries"],
        "report": str(run / "report.csv"),
        "retry_manifests": retry,
        **media_summary(stage),
    }
    out.write(json.dumps(summary) + "\n")
    return EXIT_PROBLEMS if totals["failed"] or totals["blocked"] else EXIT_OK


def run_ledger_repair(args: argparse.Namespace, out: TextIO) -> int:
    """``ledger repair``: the store's repair, with the registered items of the runs named by ``--from-run``."""
    from itertools import chain
    from pathlib import Path

    from airflow_ingest.core.ledger import sorted_entries
    from airflow_ingest.core.report import registered_entries
    from airflow_ingest.hooks.ledger import LedgerStore

    runs = [Path(run) for run in args.from_run]
    for run in runs:
        if not (run / "plan.json").exists():
            raise ConfigError("--from-run", str(run), "give a sync run folder (it holds plan.json and outcomes/)")
    plans = [(run, Plan.from_json(json.loads((run / "plan.json").read_text(encoding="utf-8")))) for run in runs]
    added = sorted_entries(chain.from_iterable(registered_entries(run, plan) for run, plan in plans))
    result = LedgerStore(args.state, args.sync_name).repair(
        "repair", ledger=args.ledger, add=added, allow_empty=args.allow_empty
    )
    out.write(json.dumps(result) + "\n")
    return EXIT_OK


def listing_from(args: argparse.Namespace) -> Iterator[StoredObject]:
    """Validate the listing options (raising :class:`ConfigError`) and return the lazy listing."""
    source = parse_source(args.source)
    filters = Filters(
        include=tuple(args.glob),
        exclude=tuple(args.exclude),
        min_size=args.min_size,
        max_size=args.max_size,
        modified_since=parse_when(args.modified_since, "--modified-since"),
        modified_before=parse_when(args.modified_before, "--modified-before"),
    )
    if args.parallel < 1:
        raise ConfigError("--parallel", args.parallel, "use 1 or more threads")
    from airflow_ingest.storage.listing import list_objects

    objects = list_objects(source, args.conn_id, filters=filters, parallel=args.parallel, inventory=args.inventory)
    own = own_folders(args, source)
    return (obj for obj in objects if not obj.key.startswith(own)) if own else objects


def own_folders(args: argparse.Namespace, source: Source) -> tuple[str, ...]:
    """Key prefixes of ``--out``, ``--state`` and ``--runs`` inside a ``file://`` source, left out of its listing."""
    if source.scheme is not Scheme.FILE:
        return ()
    options = {f"--{name}": getattr(args, name) for name in ("out", "state", "runs") if getattr(args, name, None)}
    root = str(Path(source.container).resolve())
    inside = own_folder_prefixes(root, {option: str(Path(path).resolve()) for option, path in options.items()})
    for option, prefix in inside.items():
        if not prefix:
            raise ConfigError(option, options[option], "it is the source folder itself; use a folder outside it")
        print(f"note: {option} {options[option]} is inside the source; its files are not listed", file=sys.stderr)
    return tuple(inside.values())


def run_ls(args: argparse.Namespace, out: TextIO) -> int:
    objects = listing_from(args)
    progress = Progress("ls")
    complete = False
    try:
        write = out.write
        for obj in progress.track(objects):
            write(json.dumps(obj.to_json(), ensure_ascii=False, separators=(", ", ": ")))
            write("\n")
        complete = True
    finally:
        out.flush()
        progress.finish(complete)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """The ``airflow-ingest`` command; Ctrl-C anywhere in it is one line and exit 130, never a traceback."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # a second Ctrl-C while threads wind down ends it at once
        print("airflow-ingest: interrupted by Ctrl-C", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # stdout carries data only. Airflow and the SDKs log to whatever sys.stdout is when they first configure
    # logging, so point it at stderr before anything imports Airflow, and keep the real one for the data.
    out = sys.stdout
    sys.stdout = sys.stderr
    # Airflow quiet for this command only: a caller running main() in its own process (a test, a script) must not
    # find the Airflow processes it starts afterwards logging at WARNING.
    quieted = "AIRFLOW__LOGGING__LOGGING_LEVEL" not in os.environ
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    try:
        if args.command == "ls":
            return run_ls(args, out)
        if args.command == "plan":
            return run_plan(args, out)
        if args.command == "sync":
            return run_sync(args, out)
        if args.command == "ledger":
            return run_ledger_repair(args, out)
    except ConfigError as error:
        print(f"airflow-ingest: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except IngestError as error:
        print(f"airflow-ingest: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        return EXIT_OK
    except OSError as error:  # a folder that cannot be read or written: name it, without a traceback
        where = error.filename or "a file"
        print(
            f"airflow-ingest: error: cannot use {where}: {error.strerror or error}; check the path and its permissions",
            file=sys.stderr,
        )
        return EXIT_FAILED
    finally:
        sys.stdout = out
        if quieted:
            os.environ.pop("AIRFLOW__LOGGING__LOGGING_LEVEL", None)
    parser.error(f"unknown command {args.command!r}")
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
