"""V7 Darwin, Encord and RedBrick AI under seeded fault schedules and a killed first run: exactly once, nothing
lost (see ``faults.py``). The three share one bucket of 10,000 objects: seeding moto is most of the cost.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from tests.fakes.encord import FOLDER as ENCORD_FOLDER
from tests.fakes.encord import INTEGRATION as ENCORD_INTEGRATION
from tests.fakes.encord import FakeEncord
from tests.fakes.redbrick import FakeRedBrick
from tests.harness import FakeDarwin, MotoS3
from tests.reliability.faults import Syncs, base_argv, check_exactly_once, keys_for, schedule

BUCKET = "faults-bucket"


@pytest.fixture(scope="module")
def keys(s3: MotoS3) -> list[str]:
    listed = keys_for(BUCKET)
    s3.seed(BUCKET, [(k, 10) for k in listed])
    return listed


@pytest.mark.slow
def test_darwin_under_faults_and_a_killed_run(s3: MotoS3, keys: list[str], darwin: FakeDarwin, tmp_path: Path) -> None:
    bad = {k for k in keys if k.endswith("07.jpg")}  # 100 objects V7 refuses for good
    kinds = [{"status": 500}, {"status": 502}, {"status": 503}, {"status": 429, "retry_after": 1}, {"status": 429},
             {"status": 500, "after_commit": True}, {"delay": 2.0}, {"malformed": True}, {"reset": True}]  # fmt: skip
    faults = schedule(7, 400, 0.2, kinds)
    darwin.configure(faults=faults, block={r"07\.jpg$": "UNSUPPORTED_FILE"})
    conn = darwin.conn(timeout=1, requests_per_minute=0, wait_initial=0.05, wait_max=2, max_attempts=6)
    env = {**os.environ, "AIRFLOW_CONN_AWS_DEFAULT": s3.conn(), "AIRFLOW_CONN_PLATFORM_FAULTS": conn}
    argv = base_argv(BUCKET, "darwin", tmp_path, "--dataset", "demo-dataset", "--storage", "demo-storage")
    syncs = Syncs(argv, env, lambda: len(darwin.state()["registered"]))

    syncs.killed_run(kill_at=3000)
    final = syncs.until_settled()

    state = darwin.state()
    held = Counter(r["storage_key"] for r in state["registered"])
    statuses = Counter(str(r["status"]) for r in state["requests"])
    message = check_exactly_once(
        "darwin", syncs, keys, bad, held, tmp_path / "state", faults, state["faults_left"],
        requests=len(state["requests"]), failed_requests=sum(statuses.values()) - statuses["200"],
        statuses=dict(statuses),
    )  # fmt: skip
    rows = json.loads((Path(final["report"]).with_suffix(".json")).read_text())["rows"]
    blocked = {r["objects"].rsplit("/", 1)[1]: r["reason"] for r in rows if r["outcome"] == "blocked"}
    assert set(blocked) == {k.rsplit("/", 1)[1] for k in bad}, message  # each refused object, with V7's reason
    assert all("UNSUPPORTED_FILE" in reason for reason in blocked.values()), message


@pytest.mark.slow
def test_encord_under_faults_failed_jobs_and_a_killed_run(
    s3: MotoS3, keys: list[str], encord: FakeEncord, tmp_path: Path
) -> None:
    kinds = [{"status": 500}, {"status": 503}, {"status": 429}, {"malformed": True}, {"reset": True},
             {"status": 500, "route": "start", "after_commit": True}]  # fmt: skip
    faults = schedule(11, 150, 0.25, kinds)
    encord.configure(
        faults=faults,
        job_seconds=0.3,
        job_scripts=[{}, {"error_after": 300}, {}, {"cancel_after": 500}],  # two jobs end part-way
        unit_errors={r"frame_0999\d": "Expected an image, got text/html"},
    )
    conn = encord.conn(timeout=2, long_poll_seconds=1)
    env = {**os.environ, "AIRFLOW_CONN_AWS_DEFAULT": s3.conn(), "AIRFLOW_CONN_PLATFORM_FAULTS": conn}
    argv = base_argv(BUCKET, "encord", tmp_path, "--folder", ENCORD_FOLDER, "--integration", ENCORD_INTEGRATION,
                     "--max-entries", "2500")  # fmt: skip

    def held() -> int:
        return sum(len(urls) for urls in encord.state()["registered"].values())

    syncs = Syncs(argv, env, held)
    syncs.killed_run(kill_at=2000)
    syncs.until_settled()

    state = encord.state()
    counts = state["registered"].get(f"folder:{ENCORD_FOLDER}", {})
    by_key = Counter({url.split(".amazonaws.com/", 1)[-1]: n for url, n in counts.items()})
    bad = {k for k in keys if k.rsplit("/", 1)[1].startswith("frame_0999")}  # Encord's unit errors
    part_way = sum(j["status"] in ("ERROR", "CANCELLED") for j in state["jobs"])
    message = check_exactly_once(
        "encord", syncs, keys, bad, by_key, tmp_path / "state", faults, state["faults_left"],
        requests=len(state["requests"]), jobs=len(state["jobs"]), jobs_ended_part_way=part_way,
    )  # fmt: skip
    assert part_way >= 2, message  # the scripted ERROR and CANCELLED jobs happened and were recovered from


@pytest.mark.slow
def test_redbrick_under_faults_and_a_killed_run(
    s3: MotoS3, keys: list[str], redbrick: FakeRedBrick, tmp_path: Path
) -> None:
    bad = {k for k in keys if k.endswith("03.jpg")}
    kinds = [{"status": 500}, {"status": 502}, {"status": 429}, {"drop": True}, {"malformed": True},
             {"null_answer": True, "op": "createDatapointSDK"},
             {"status": 500, "after_commit": True, "op": "createDatapointSDK"},
             {"delay": 1.5, "after_commit": True, "op": "createDatapointSDK"}]  # fmt: skip
    faults = schedule(13, 3000, 0.05, kinds)
    redbrick.configure(faults=faults, bad_items={r"03\.jpg$": "Unsupported file type"})
    conn = redbrick.conn(timeout=1, concurrency=8, wait_initial=0.05, wait_max=1)
    env = {**os.environ, "AIRFLOW_CONN_AWS_DEFAULT": s3.conn(), "AIRFLOW_CONN_PLATFORM_FAULTS": conn}
    argv = base_argv(BUCKET, "redbrick", tmp_path, "--storage-id", FakeRedBrick.STORAGE_ID,
                     "--project-id", FakeRedBrick.PROJECT_ID)  # fmt: skip
    syncs = Syncs(argv, env, lambda: len(redbrick.tasks()))

    syncs.killed_run(kill_at=3000)
    syncs.until_settled()

    state = redbrick.state()
    held = Counter(path for task in redbrick.tasks() for path in task["items"])
    statuses = Counter(str(r["status"]) for r in state["requests"])
    check_exactly_once(
        "redbrick", syncs, keys, bad, held, tmp_path / "state", faults, state["faults_left"],
        requests=len(state["requests"]), failed_requests=sum(statuses.values()) - statuses["200"],
    )  # fmt: skip
