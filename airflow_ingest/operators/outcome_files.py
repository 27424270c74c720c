"""Outcome files: ``outcomes/batch-NNNNN.json`` beside ``manifests/``, one per registered batch."""

from __future__ import annotations

import json
from collections.abc import Iterable

from airflow.sdk import ObjectStoragePath

from airflow_ingest.core.outcomes import Outcome


def outcome_path(manifest: ObjectStoragePath) -> ObjectStoragePath:
    """``.../manifests/batch-00001.json`` -> ``.../outcomes/batch-00001.json`` (whatever the manifest suffix)."""
    stem = manifest.name.split(".", 1)[0]
    return manifest.parent.parent / "outcomes" / f"{stem}.json"


def write_outcomes(path: ObjectStoragePath, outcomes: Iterable[Outcome]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([o.to_json() for o in outcomes], ensure_ascii=False), encoding="utf-8")


def read_outcomes(path: ObjectStoragePath) -> dict[str, Outcome] | None:
    """The outcomes of one batch by item id, or None when the batch was never registered."""
    if not path.exists():
        return None
    return {o.item: o for o in map(Outcome.from_json, json.loads(path.read_text(encoding="utf-8")))}
