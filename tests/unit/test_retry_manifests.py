"""Retry manifests: each platform's own format, cut down to exactly the retryable failures."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.outcomes import Outcome, OutcomeKind
from airflow_ingest.core.plan import make_plan, path_opener, read_batch_index
from airflow_ingest.core.report import outcome_path, write_outcomes, write_report
from airflow_ingest.platforms import get_platform, manifest_builder
from airflow_ingest.platforms.encord.answers import spec_entries

WHEN = datetime(2026, 11, 1, tzinfo=timezone.utc)
TARGETS = {
    "darwin": {"dataset_slug": "d", "storage_slug": "s"},
    "encord": {"region": "eu-west-1"},
    "redbrick": {"storage_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"},
    "labelstudio": {},
}


def sent_items(platform: str, body: str) -> set[str]:
    """Which plan items a manifest holds, read back from the platform's own document."""
    if platform == "darwin":
        return {f"{i['path'].rstrip('/')}/{i['name']}" for i in json.loads(body)["items"]}
    if platform == "redbrick":
        return {"/" + task["name"] for task in json.loads(body)}
    if platform == "labelstudio":
        return {task["meta"]["airflow_ingest"]["item"] for task in json.loads(body)}
    prefix = "https://b.s3.eu-west-1.amazonaws.com/"
    return {"/" + url.removeprefix(prefix) for entry in spec_entries(json.loads(body)) for url in entry.urls}


@pytest.mark.parametrize("platform", ["darwin", "encord", "redbrick", "labelstudio"])
def test_retry_manifests_hold_exactly_the_retryable_failures(platform: str, tmp_path: Path) -> None:
    objects = [StoredObject(f"s3://b/cam/{i:02d}.jpg", "b", f"cam/{i:02d}.jpg", 10, "e", WHEN) for i in range(12)]
    objects += [StoredObject(f"s3://b/clips/{i}.mp4", "b", f"clips/{i}.mp4", 10, "e", WHEN) for i in range(3)]
    plan = make_plan(objects, manifest_builder(platform, TARGETS[platform]), Limits(5), path_opener(tmp_path))
    retry_wanted: dict[int, set[str]] = {}
    for number, batch in enumerate(plan.batches, start=1):
        outcomes = []
        for n, line in enumerate(read_batch_index(tmp_path, batch)):
            kind = (OutcomeKind.REGISTERED, OutcomeKind.FAILED, OutcomeKind.BLOCKED)[n % 3]
            retryable = kind is OutcomeKind.FAILED and number != 2  # batch 2's failures are final
            outcomes.append(Outcome(line["item"], kind, "why", retryable))
            if retryable:
                retry_wanted.setdefault(number, set()).add(line["item"])
        write_outcomes(outcome_path(tmp_path / batch.path), outcomes)

    totals, retry = write_report(tmp_path, plan, retry=get_platform(platform).retry_cut(tmp_path, plan))

    assert totals["retryable"] == sum(map(len, retry_wanted.values())) > 0
    assert [Path(p).name for p in retry] == [f"batch-{n:05d}.json" for n in sorted(retry_wanted)]
    for path, number in zip(retry, sorted(retry_wanted), strict=True):
        assert sent_items(platform, Path(path).read_text()) == retry_wanted[number]
