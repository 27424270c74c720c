"""What a command reads from its options: the platform target, the listing, the media request, the ledger.

Each reader raises :class:`ConfigError` naming the option at fault (exit code 2), before anything is listed or
sent. The source is parsed once per command and handed to these readers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.filters import Filters, own_folder_prefixes, parse_when
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.urls import Scheme, Source
from airflow_ingest.pipeline.planning import MediaRequest


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
    elif args.platform == "labelstudio":
        target = {"data_key": args.data_key}
    else:
        target = {"storage_id": args.storage_id, "form": args.form, "url_style": args.url_style, "region": args.region}
    return {key: value for key, value in target.items() if value is not None}


def register_args(args: argparse.Namespace) -> dict[str, Any]:
    """The connection and the platform's register flags: what the sender takes and the ledger's destination."""
    from airflow_ingest.platforms import cli_values

    return {"platform_conn_id": args.platform_conn_id, **cli_values(args.platform, args)}


def media_request(args: argparse.Namespace, target: dict[str, object]) -> MediaRequest | None:
    """With ``--probe`` or ``--thumbnails``, what the media stage is asked for; else None."""
    from airflow_ingest.platforms import get_platform

    if not (args.probe or args.thumbnails):
        return None
    return get_platform(args.platform).media_request(
        target,
        args.conn_id,
        thumbnails=bool(args.thumbnails),
        cache_folder=args.probe_cache,
        workers=args.probe_workers,
        max_frames=args.max_frames,
    )


def filtered(args: argparse.Namespace) -> bool:
    """Whether the listing options narrow the listing (then vanished objects cannot be told from filtered ones)."""
    return bool(
        args.glob or args.exclude or args.min_size or args.max_size or args.modified_since or args.modified_before
    )


def listing_from(args: argparse.Namespace, source: Source) -> Iterator[StoredObject]:
    """Validate the listing options (raising :class:`ConfigError`) and return the lazy listing."""
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
