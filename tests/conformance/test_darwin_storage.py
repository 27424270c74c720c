"""DarwinHook checks the storage connection as darwin-py does (``get_external_storage``) before registering.

darwin-py lists ``GET /api/teams/{team}/storage`` and stops with a clear error when the name is not there; the
hook does the same once per storage slug, so a typo stops the run at once instead of failing every batch.
"""

from __future__ import annotations

import pytest

from airflow_ingest.core.errors import PlatformAuthError
from airflow_ingest.platforms.darwin.hook import DarwinHook
from tests.harness import FakeDarwin

STORAGE_CALL = f"GET /api/teams/{FakeDarwin.TEAM}/storage"


def payload(name: str, storage: str = "demo-storage") -> dict[str, object]:
    item = {"path": "/s", "type": "image", "storage_key": f"s/{name}", "name": name}
    return {"items": [item], "dataset_slug": "demo-dataset", "storage_slug": storage}


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch, darwin: FakeDarwin) -> DarwinHook:
    monkeypatch.setenv("AIRFLOW_CONN_DARWIN_STORAGE", darwin.conn())
    return DarwinHook("darwin_storage", max_attempts=2, wait_initial=0.05, wait_max=1)


def test_an_unknown_storage_slug_stops_before_anything_is_sent(hook: DarwinHook, darwin: FakeDarwin) -> None:
    with pytest.raises(PlatformAuthError) as caught:
        hook.register_existing(payload("a.png", storage="demo-storage-typo"))
    message = str(caught.value)
    assert "storage_slug='demo-storage-typo'" in message and "'demo-storage'" in message
    assert "\n" not in message
    assert darwin.state()["requests"] == []


def test_the_storage_is_listed_once_per_slug(hook: DarwinHook, darwin: FakeDarwin) -> None:
    hook.register_existing(payload("a.png"))
    hook.register_existing(payload("b.png"))
    assert darwin.state()["calls"].count(STORAGE_CALL) == 1
    assert len(darwin.state()["registered"]) == 2


def test_a_key_that_may_not_list_storage_still_registers(hook: DarwinHook, darwin: FakeDarwin) -> None:
    darwin.configure(list_storage=False)
    answer = hook.register_existing(payload("a.png", storage="demo-storage"))
    assert [i["name"] for i in answer["items"]] == ["a.png"]
    assert darwin.state()["calls"].count(STORAGE_CALL) == 1  # 403 is not retried, and not asked again


def test_a_read_only_connection_used_read_write_is_logged(
    hook: DarwinHook, darwin: FakeDarwin, capsys: pytest.CaptureFixture[str]
) -> None:
    # A warning, not a refusal: the guide does not say V7 refuses the other endpoint, so V7's answer decides.
    darwin.configure(readonly_storages=["demo-storage"])
    hook.register_existing(payload("a.png"))
    logged = "".join(capsys.readouterr())  # Airflow's task logging writes to stdout
    assert "'demo-storage' is read-only" in logged and "readonly=True" in logged
    assert len(darwin.state()["registered"]) == 1
