"""The platforms' official SDKs, each in a venv of its own, run as subprocesses against the fakes.

Their dependencies clash with Airflow's (redbrick-sdk pins opencv and SimpleITK, darwin-py its own pydantic
range), so `make sdks` builds one venv per file in `tests/conformance/requirements/` under `.sdk/<name>/`, at
exactly the pinned versions. A test runs a small script in that venv and reads the JSON it prints last.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.harness import REPO

SDK_ROOT = REPO / ".sdk"
SCRIPTS = Path(__file__).parent / "scripts"


def sdk_python(name: str) -> Path:
    """The interpreter of the venv `make sdks` built for `requirements/<name>.txt`; fails with the fix if absent."""
    python = SDK_ROOT / name / "bin" / "python"
    if not (SDK_ROOT / name / ".installed").exists():
        raise AssertionError(f"the {name} SDK venv is missing at {python.parent.parent}: run `make sdks`")
    return python


def run_sdk(name: str, script: str, *args: str, env: Mapping[str, str] | None = None, timeout: float = 300.0) -> Any:
    """Run `scripts/<script>` in the `name` venv and return the JSON document on its last stdout line.

    The child gets a minimal environment (no AIRFLOW_*, no AWS_* of the test process) plus `env`, so the
    SDK sees only what a user's script would.
    """
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    proc = subprocess.run(
        [str(sdk_python(name)), str(SCRIPTS / script), *args],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"{script} in the {name} SDK venv exited {proc.returncode}:\n{proc.stderr[-4000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if not lines:
        raise AssertionError(f"{script} printed nothing; stderr:\n{proc.stderr[-4000:]}")
    return json.loads(lines[-1])
