"""What the fault suites share: 10,000 objects per platform through `airflow-ingest sync` while the fake fails on
a seeded random schedule and the first run is killed (SIGKILL) part-way.

Afterwards every object must be registered exactly once on the fake or reported with its reason, and the
ledger must equal the fake's state. Each platform's figures (requests, failed requests absorbed, faults
injected, runs, duplicates, lost) go to ``.test-output/reliability/{platform}.json`` and into the assertion
messages. One test file per platform, so ``make test``'s workers run them side by side.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from airflow_ingest.core.ledger import read_entries
from tests.harness import BIN, REPO

OBJECTS = 10_000
FIGURES = REPO / ".test-output" / "reliability"


def schedule(seed: int, count: int, rate: float, kinds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``count`` request slots, each failing with probability ``rate`` as one of ``kinds``; ``{}`` passes."""
    rng = random.Random(seed)
    return [dict(rng.choice(kinds)) if rng.random() < rate else {} for _ in range(count)]


def keys_for(bucket: str) -> list[str]:
    return [f"site{i % 10}/frame_{i:05d}.jpg" for i in range(OBJECTS)]


def ledger_urls(state: Path) -> list[str]:
    (head_path,) = state.rglob("HEAD.json")
    head = json.loads(head_path.read_text())
    with (head_path.parent / head["ledger"]).open("rb") as stream:
        return [entry.url for entry in read_entries(stream)]


class Syncs:
    """Runs the sync CLI for one platform: the first run killed once the fake holds ``kill_at`` objects."""

    def __init__(self, argv: list[str], env: dict[str, str], held: Callable[[], int]) -> None:
        self.argv, self.env, self.held = argv, env, held
        self.summaries: list[dict[str, Any]] = []
        self.killed_with = 0

    def killed_run(self, kill_at: int, timeout: float = 240) -> int:
        process = subprocess.Popen(self.argv, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + timeout
        while self.held() < kill_at:
            assert process.poll() is None, (process.stderr.read() if process.stderr else "")[-3000:]
            assert time.monotonic() < deadline, "the first run made too little progress"
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
        self.killed_with = self.held()
        return self.killed_with

    def until_settled(self, runs: int = 6) -> dict[str, Any]:
        """Sync again until a run fails nothing. Faults leave some for later runs: a job start whose answer was
        lost is never resent within its run (it may have started), only by the next one."""
        for _ in range(runs):
            result = subprocess.run(self.argv, env=self.env, capture_output=True, text=True, timeout=600)
            assert result.returncode in (0, 3), result.stderr[-3000:]
            self.summaries.append(json.loads(result.stdout.strip().splitlines()[-1]))
            if not self.summaries[-1]["failed"]:
                return self.summaries[-1]
        raise AssertionError(f"still failing after {runs} runs: {self.summaries}")


def injected(faults: list[dict[str, Any]], left: int) -> int:
    """Faults the fake served: the schedule's non-empty slots among those it used up."""
    return sum(1 for fault in faults[: len(faults) - left] if fault)


def record(platform: str, figures: dict[str, Any]) -> str:
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / f"{platform}.json").write_text(json.dumps(figures, indent=2))
    return json.dumps(figures)


def base_argv(bucket: str, platform: str, tmp: Path, *extra: str) -> list[str]:
    return [str(BIN / "airflow-ingest"), "sync", f"s3://{bucket}/", "--platform", platform,
            "--platform-conn-id", "platform_faults", "--state", str(tmp / "state"), "--runs", str(tmp / "runs"),
            *extra]  # fmt: skip


def check_exactly_once(
    platform: str,
    syncs: Syncs,
    keys: list[str],
    bad: set[str],
    held: Counter[str],
    state: Path,
    faults: list[dict[str, Any]],
    faults_left: int,
    **extra: Any,
) -> str:
    """Record the figures, then: nothing twice, nothing lost, the refused ones reported, the ledger = the fake."""
    figures = {
        "objects": len(keys),
        **extra,
        "faults_injected": injected(faults, faults_left),
        "killed_with": syncs.killed_with,
        "runs_after_kill": len(syncs.summaries),
        "duplicates": sum(n - 1 for n in held.values()),
        "lost": len(set(keys) - set(held) - bad),
    }
    message = record(platform, figures)
    assert figures["duplicates"] == 0 and figures["lost"] == 0, message
    assert set(held) == set(keys) - bad and syncs.summaries[-1]["blocked"] == len(bad), message
    assert sorted(url.split("/", 3)[3] for url in ledger_urls(state)) == sorted(held), message
    return message
