"""Our Encord hook on the oldest encord SDK pyproject.toml allows (run in the ``encord-min`` venv by
tests/conformance/test_encord_min.py).

That venv holds encord at the bound and its dependencies at uv.lock's versions; Airflow and the rest of the
project's dependencies come from the project venv, appended after it on ``sys.path`` (argv[1]), so ``encord``
resolves to the old SDK. Each scenario drives the hook against the fake Encord (its connection in
``AIRFLOW_CONN_ENCORD_MIN``, control URL in ``FAKE_URL``) through one of the SDK errors the hook maps, and
the script prints one JSON line of what happened.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.append(sys.argv[1])  # the project venv's site-packages, after this venv's own
sys.path.insert(0, sys.argv[2])  # the repository, for airflow_ingest and tests.fakes

import encord
import requests

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.errors import PlatformAuthError, PlatformError
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.plan import make_plan, path_opener
from airflow_ingest.platforms.encord.documents import EncordManifests
from airflow_ingest.platforms.encord.hook import EncordHook
from airflow_ingest.platforms.encord.jobs import parse_destination
from airflow_ingest.platforms.encord.register import register_batch
from airflow_ingest.platforms.encord.target import EncordTarget
from tests.fakes.encord import new_key

FAKE = os.environ["FAKE_URL"]
FOLDER, DATASET, INTEGRATION = os.environ["FOLDER"], os.environ["DATASET"], os.environ["INTEGRATION"]
TO_FOLDER = parse_destination({"folder_uuid": FOLDER, "integration_id": INTEGRATION})
TO_DATASET = parse_destination({"dataset_hash": DATASET, "integration_id": INTEGRATION})
SPEC = {"images": [{"objectUrl": "s3://bkt/x.jpg"}], "skip_duplicate_urls": True}


def fake(path: str, **body: Any) -> Any:
    answer = requests.post(f"{FAKE}/_fake/{path}", json=body, timeout=10)
    answer.raise_for_status()
    return answer.json()


def starts() -> list[Any]:
    state = requests.get(f"{FAKE}/_fake/state", timeout=10).json()
    return [r["status"] for r in state["requests"] if r["route"] == "start"]


def failure(call: Any) -> dict[str, Any]:
    """What the hook raised, as the pipeline sees it (never an AttributeError from a missing SDK class)."""
    try:
        call()
    except PlatformError as error:
        kind = type(error).__name__
        return {"type": kind, "status": error.status, "retryable": error.retryable, "message": str(error)}
    return {"type": None}


def main() -> None:
    out: dict[str, Any] = {"sdk": encord.__version__, "sdk_file": encord.__file__}
    hook = EncordHook("encord_min")

    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp)
        now = datetime(2025, 1, 1, tzinfo=timezone.utc)
        objects = [StoredObject(f"s3://bkt/{n}.jpg", "bkt", f"{n}.jpg", 10, f"e{n}", now) for n in range(3)]
        target = EncordTarget(url_style="protocol")
        plan = make_plan(objects, EncordManifests(target), Limits(max_entries=2), path_opener(run))
        out["registered"] = {}
        for number, destination in ((1, TO_FOLDER), (2, TO_DATASET)):
            outcomes = register_batch(hook, run, plan, number, destination, target, timeout=60, poll_seconds=2)
            out["registered"][destination.kind] = sorted(o.outcome.value for o in outcomes)
            out.setdefault("reasons", []).extend(o.reason for o in outcomes if o.reason)

    fake("reset")
    fake("configure", faults=[{"route": "start", "status": 429, "retry_after": 1}])
    out["after_429"] = {"job": bool(EncordHook("encord_min").start_job(TO_FOLDER, SPEC)), "starts": starts()}

    fake("reset")
    fake("configure", faults=[{"route": "start", "status": 429}] * 5)
    impatient = EncordHook("encord_min", max_attempts=2, wait_max=1)
    out["429_every_time"] = failure(lambda: impatient.start_job(TO_FOLDER, SPEC))

    fake("reset")
    fake("configure", faults=[{"route": "start", "status": 429, "retry_after": 1}])
    out["429_dataset"] = failure(lambda: EncordHook("encord_min").start_job(TO_DATASET, SPEC))

    fake("reset")
    fake("configure", faults=[{"route": "start", "status": 413}])
    out["413"] = failure(lambda: EncordHook("encord_min").start_job(TO_FOLDER, SPEC))

    fake("reset")
    bad = {"image_groups": [{"title": "g", "createVideo": "false", "objectUrl_0": "s3://bkt/1.jpg"}]}
    out["400"] = failure(lambda: EncordHook("encord_min").start_job(TO_FOLDER, bad))
    out["400_dataset"] = failure(lambda: EncordHook("encord_min").start_job(TO_DATASET, bad))

    fake("reset")
    fake("configure", faults=[{"route": "start", "status": 500}])
    out["500"] = failure(lambda: EncordHook("encord_min").start_job(TO_FOLDER, SPEC))

    fake("reset")
    job = EncordHook("encord_min").start_job(TO_FOLDER, SPEC)
    fake("configure", faults=[{"route": "poll", "status": 429, "retry_after": 1}, {"route": "poll", "status": 500}])
    out["poll_through_429_500"] = EncordHook("encord_min", wait_initial=0.1).poll(TO_FOLDER, job, 5).status

    other = json.loads(os.environ["AIRFLOW_CONN_ENCORD_MIN"])
    other["password"] = new_key()[0]  # a valid Ed25519 key Encord does not know
    os.environ["AIRFLOW_CONN_ENCORD_OTHER"] = json.dumps(other)
    try:
        EncordHook("encord_other").start_job(TO_FOLDER, SPEC)
        out["401"] = {"type": None}
    except PlatformAuthError as error:
        out["401"] = {"type": type(error).__name__, "status": error.status}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
