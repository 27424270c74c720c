"""Our Encord hook on encord at exactly the lower bound of pyproject.toml (``requirements/encord-min.txt``).

The bound is 0.1.200, the first release with everything the hook calls: ``get_dataset(include_data_rows=False)``
(0.1.200; before, opening a dataset fetched all its data rows and the keyword was a TypeError) and the
``RateLimitExceededError`` / ``PayloadTooLargeError`` it maps (0.1.175; before, v2 answered a 429 or 413 as
``UnknownException``). 0.1.160, the old bound, cannot even import ``encord.user_client`` without numpy, which it
does not declare. The script (``scripts/encord_min_hook.py``) registers two batches (a folder, a dataset) and
drives every error the hook maps, against the session's fake Encord.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import sysconfig

import pytest

from tests.conformance.sdk import run_sdk
from tests.fakes.encord import DATASET, FOLDER, INTEGRATION, FakeEncord
from tests.harness import REPO

REQUIREMENTS = REPO / "tests" / "conformance" / "requirements" / "encord-min.txt"


def pins() -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", REQUIREMENTS.read_text(), flags=re.MULTILINE)
    return {name.lower(): version for name, version in found}


def test_the_venv_pins_the_bound_and_the_lock_versions() -> None:
    """encord at pyproject's lower bound; every dependency at the project venv's (uv.lock's) version, as the
    script shares the project venv's packages with it."""
    [bound] = re.findall(r'^encord = \["encord>=([0-9.]+)"\]$', (REPO / "pyproject.toml").read_text(), re.MULTILINE)
    wanted = pins()
    assert bound == wanted.pop("encord")
    assert {name: importlib.metadata.version(name) for name in wanted} == wanted


def test_the_hook_registers_and_maps_every_sdk_error_at_the_lower_bound(encord: FakeEncord) -> None:
    env = {
        "AIRFLOW_CONN_ENCORD_MIN": encord.conn(),
        "AIRFLOW_HOME": str(REPO / ".sdk" / "encord-min" / "airflow-home"),
        "FAKE_URL": encord.url,
        "FOLDER": FOLDER,
        "DATASET": DATASET,
        "INTEGRATION": INTEGRATION,
    }
    site = sysconfig.get_paths()["purelib"]
    got = run_sdk("encord-min", "encord_min_hook.py", site, str(REPO), env=env)
    assert got["sdk"] == pins()["encord"] and "/.sdk/encord-min/" in got["sdk_file"]
    assert got["registered"] == {"folder": ["registered", "registered"], "dataset": ["registered"]}
    assert got["after_429"] == {"job": True, "starts": [429, 200]}  # Retry-After honoured, then started
    assert got["429_every_time"]["status"] == 429 and got["429_every_time"]["retryable"]
    # The v1 querier (datasets) learns to read a 429 only in later releases: at the bound it is an unknown
    # answer, so the start counts as possibly made (retryable; skip_duplicate_urls makes the re-run safe).
    assert got["429_dataset"]["type"] == "StartUnanswered" and got["429_dataset"]["retryable"]
    assert got["413"]["status"] == 413 and "lower max_entries" in got["413"]["message"]
    for answer in (got["400"], got["400_dataset"]):
        assert answer["status"] == 400 and "J10: image_groups" in answer["message"] and not answer["retryable"]
    assert got["500"]["type"] == "StartUnanswered" and got["500"]["retryable"]  # may have started: not resent
    assert got["poll_through_429_500"] == "DONE"
    assert got["401"] == {"type": "PlatformAuthError", "status": 401}


def test_an_sdk_older_than_the_bound_is_refused_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    """pip keeps the bound, but an environment pinned by other means gets a clear error instead of an
    AttributeError deep in a job start. (No older SDK is installed to run: its version is what is read.)"""
    from airflow_ingest.core.errors import ConfigError
    from airflow_ingest.platforms.encord import hook

    assert pins()["encord"] == hook.MIN_SDK
    monkeypatch.setattr(hook, "_installed_version", lambda: "0.1.199")
    hook._sdk.cache_clear()
    with pytest.raises(ConfigError, match=r"encord SDK='0.1.199' is invalid: this provider needs encord>=0.1.200"):
        hook._sdk()
    monkeypatch.setenv("AIRFLOW_CONN_ENCORD_OLD", json.dumps({"conn_type": "encord", "extra": {"bearer_token": "t"}}))
    ok, message = hook.EncordHook("encord_old").test_connection()  # the UI's "Test" button says the same
    assert not ok and "needs encord>=0.1.200" in message
    monkeypatch.undo()
    hook._sdk.cache_clear()
    assert hook._sdk().__name__ == "encord"
