"""Each platform's hook, made once, as one call per batch (what ``sync`` sends through).

Kept as it was in ``cli.py``: the platform registry (``get_platform(name).sender_for(...)``) replaces it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.outcomes import Outcome
from airflow_ingest.core.plan import Plan


def registrar(args: argparse.Namespace, target: dict[str, object]) -> Callable[[Path, Plan, int], list[Outcome]]:
    """The platform's hook, made once, as one call per batch: ``(run folder, plan, batch number) -> outcomes``."""
    if args.platform == "darwin":
        from airflow_ingest.hooks.darwin import DarwinHook
        from airflow_ingest.hooks.darwin import register_batch as darwin_batch

        darwin = DarwinHook(args.platform_conn_id)
        darwin.read_connection()  # a malformed connection fails now, before anything is listed
        readonly = bool(target.get("readonly", False))
        return lambda run, plan, n: darwin_batch(darwin, batch_text(run, plan, n), readonly=readonly)
    if args.platform == "encord":
        from airflow_ingest.core.encord import EncordTarget
        from airflow_ingest.core.encord_jobs import parse_destination
        from airflow_ingest.hooks.encord import EncordHook
        from airflow_ingest.hooks.encord import register_batch as encord_batch

        if target.get("format") == "csv":
            raise ConfigError("--format", "csv", "Encord's SDK registers JSON specs; use --format json to sync")
        destination = parse_destination(
            {
                "folder_uuid": args.folder,
                "dataset_hash": args.dataset_hash,
                "integration_id": args.integration,
                "ignore_errors": args.ignore_errors,
            }
        )
        encord = EncordHook(args.platform_conn_id)
        encord.read_connection()
        spec = EncordTarget.model_validate(target)
        return lambda run, plan, n: encord_batch(encord, run, plan, n, destination, spec)
    from airflow_ingest.core.plan import read_batch_index
    from airflow_ingest.hooks.redbrick import RedBrickHook
    from airflow_ingest.hooks.redbrick import register_batch as redbrick_batch

    redbrick = RedBrickHook(args.platform_conn_id)
    redbrick.read_connection()
    storage_id = str(target["storage_id"])

    def redbrick_one(run: Path, plan: Plan, number: int) -> list[Outcome]:
        ids = [str(line["item"]) for line in read_batch_index(run, plan.batches[number - 1])]
        return redbrick_batch(redbrick, batch_text(run, plan, number), args.project_id, storage_id, item_ids=ids)

    return redbrick_one


def batch_text(run: Path, plan: Plan, number: int) -> str:
    return (run / plan.batches[number - 1].path).read_text(encoding="utf-8")
