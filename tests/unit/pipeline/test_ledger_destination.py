"""A ledger belongs to one destination; its head names only files in its folder; its size stays bounded.

Also the local compare-and-swap: concurrent commits from threads and from processes keep every entry.
"""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_ingest.core import ledger_head
from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.ledger import Entry, LedgerError
from airflow_ingest.core.ledger_head import Destination, parse_head, prunable
from airflow_ingest.core.urls import parse_source
from airflow_ingest.media.cache import probe_cache_folder
from airflow_ingest.pipeline.ledger_destination import Naming, destination_for, legacy_sync_name, open_store, store_for
from airflow_ingest.pipeline.ledger_store import LedgerStore
from airflow_ingest.platforms import get_platform

SOURCE = parse_source("s3://bucket/prefix")


def naming(platform: str) -> Naming:
    """The platform's destination rule, as the operators and the CLI hand it to ``store_for``."""
    return get_platform(platform).name_destination


def entry(key: str, etag: str = "etag") -> Entry:
    return Entry(f"s3://bucket/{key}", etag, f"/{key}")


def dest(target: str = "folder-a", **fields: str) -> Destination:
    values = {"platform": "encord", "account": "encord_default", "target": target, "storage": "int-1"}
    values.update(fields)
    values.setdefault("bucket", "s3://bucket")
    return Destination(**values)


def ledger_files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.startswith("ledger-"))


# -- identity ---------------------------------------------------------------------------------------------------


def test_default_name_covers_every_field_of_the_destination() -> None:
    base = dest()
    names = {
        base.default_name(),
        dest("folder-b").default_name(),
        dest(account="other").default_name(),
        dest(storage="int-2").default_name(),
        dest(platform="redbrick").default_name(),
        dest(bucket="s3://other").default_name(),
    }
    assert len(names) == 6
    assert base.default_name().startswith("encord-folder-a-bucket-")


def test_two_non_ascii_names_get_two_folders() -> None:
    first, second = dest("données"), dest("日本")
    assert first.default_name() != second.default_name()
    assert first.default_name().isascii() and second.default_name().isascii()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_names_never_collide_and_are_plain_segments(a: str, b: str) -> None:
    name_a, name_b = dest(a).default_name(), dest(b).default_name()
    assert (name_a == name_b) == (a == b)
    assert "/" not in name_a and name_a.isascii() and name_a not in (".", "..") and len(name_a) <= 100


def test_destination_of_each_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_V7", json.dumps({"conn_type": "darwin", "password": "k", "extra": {"team_slug": "acme"}})
    )
    org = "11111111-2222-3333-4444-555555555555"
    monkeypatch.setenv("AIRFLOW_CONN_RB", json.dumps({"conn_type": "redbrick", "extra": {"org_id": org}}))
    darwin = destination_for(
        "darwin", {"dataset_slug": "cars", "storage_slug": "aws"}, SOURCE, {"platform_conn_id": "v7"},
        naming=naming("darwin"),
    )  # fmt: skip
    assert darwin == Destination("darwin", "acme", "cars", "aws", "s3://bucket")
    encord = destination_for(
        "encord", {}, SOURCE, {"platform_conn_id": "enc", "folder_uuid": "f-1", "integration_id": "i-1"},
        naming=naming("encord"),
    )  # fmt: skip
    assert encord == Destination("encord", "enc", "f-1", "i-1", "s3://bucket")
    register = {"platform_conn_id": "rb", "project_id": "p"}
    redbrick = destination_for("redbrick", {"storage_id": "s-1"}, SOURCE, register, naming=naming("redbrick"))
    assert redbrick == Destination("redbrick", org, "p", "s-1", "s3://bucket")


def test_label_studio_ledgers_follow_the_project_given_or_from_the_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for conn_id, project in (("ls_a", 7), ("ls_b", 8)):
        connection = {"conn_type": "labelstudio", "password": "t", "extra": {"project_id": project}}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(connection))
    ls = naming("labelstudio")
    given = destination_for("labelstudio", {}, SOURCE, {"platform_conn_id": "ls_a", "project_id": 9}, naming=ls)
    assert given == Destination("labelstudio", "ls_a", "9", "", "s3://bucket")  # the argument wins over the extra
    from_extra = destination_for("labelstudio", {}, SOURCE, {"platform_conn_id": "ls_a"}, naming=ls)
    assert from_extra == Destination("labelstudio", "ls_a", "7", "", "s3://bucket")
    state = str(tmp_path / "state")
    stores = [
        store_for(state, None, "labelstudio", {}, SOURCE, {"platform_conn_id": conn}, naming=ls)
        for conn in ("ls_a", "ls_b")
    ]
    stores[0].commit("r1", [entry("a.png")])
    assert list(stores[1].entries()) == []  # the other project is not told the first one's objects are held
    assert stores[0].folder != stores[1].folder
    # the same connection pointed at another project: another ledger, not the first project's
    monkeypatch.setenv("AIRFLOW_CONN_LS_A", json.dumps({"conn_type": "labelstudio", "extra": {"project_id": 8}}))
    moved = store_for(state, None, "labelstudio", {}, SOURCE, {"platform_conn_id": "ls_a"}, naming=ls)
    assert moved.folder != stores[0].folder and list(moved.entries()) == []


def test_a_platform_without_a_rule_is_named_by_its_keys() -> None:
    from tests.quill import PLATFORM as quill

    register = {"platform_conn_id": "q", "drawer": "d-1"}
    assert destination_for("quill", {"shelf": "s"}, SOURCE, register, naming=quill.name_destination) == Destination(
        "quill", "q", "d-1", "", "s3://bucket"
    )
    assert quill.name_destination({"shelf": "s"}, {}, "q", dict) == ("q", "s", "")


def test_a_ledger_used_for_another_destination_is_refused(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    LedgerStore(state, "shared", dest("folder-a")).commit("r1", [entry("a.png")])
    other = LedgerStore(state, "shared", dest("folder-b"))
    with pytest.raises(LedgerError) as caught:
        list(other.entries())
    message = str(caught.value)
    assert "\n" not in message and "'folder-a'" in message and "'folder-b'" in message and "sync_name" in message
    with pytest.raises(LedgerError, match="belongs to"):
        other.commit("r2", [entry("b.png")])


def test_two_encord_folders_on_one_state_get_their_own_ledgers(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    for folder in ("folder-a", "folder-b"):
        register = {"platform_conn_id": "enc", "folder_uuid": folder, "integration_id": "i"}
        store = store_for(state, None, "encord", {}, SOURCE, register, naming=naming("encord"))
        assert list(store.entries()) == []  # the second folder is not told the first one's objects are held
        store.commit("r1", [entry("a.png")])
    assert len(list((tmp_path / "state").iterdir())) == 2


def test_a_ledger_without_identity_keeps_working_and_adopts_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = str(tmp_path / "state")
    target = {"dataset_slug": "cars", "storage_slug": "aws"}
    legacy = LedgerStore(state, legacy_sync_name("darwin", target, SOURCE))
    legacy.commit("old run", [entry("a.png")])  # written as before: no destination in HEAD.json
    assert "destination" not in json.loads(legacy.head_path.read_text())
    caplog.set_level("INFO")
    store = store_for(state, None, "darwin", target, SOURCE, {"platform_conn_id": "v7"}, naming=naming("darwin"))
    assert store.folder == legacy.folder and list(store.entries()) == [entry("a.png")]
    store.commit("new run", [])  # nothing new: no new file, but the head records its destination
    head = json.loads(legacy.head_path.read_text())
    assert head["destination"]["target"] == "cars" and len(ledger_files(Path(str(legacy.folder)))) == 1
    assert any("now records its destination" in r.getMessage() for r in caplog.records)
    other_target = {"dataset_slug": "cars", "storage_slug": "gcs"}
    other = store_for(state, None, "darwin", other_target, SOURCE, {}, naming=naming("darwin"))
    assert other.folder != legacy.folder  # the legacy ledger now belongs to the first destination only


def test_open_store_prefers_a_given_name(tmp_path: Path) -> None:
    store = open_store(str(tmp_path), "mine", dest(), "legacy")
    assert store.sync_name == "mine"


# -- the head names files in its folder only -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../other/ledger-r-1.tsv.gz", "/etc/passwd", "sub/ledger-r-1.tsv.gz", "..", "ledger-..-1.tsv.gz", 7]
)
def test_a_head_naming_a_file_outside_its_folder_is_refused(tmp_path: Path, name: object) -> None:
    store = LedgerStore(str(tmp_path / "state"), "sync")
    store.commit("r1", [entry("a.png")])
    head = json.loads(store.head_path.read_text())
    head["ledger"] = name
    store.head_path.write_text(json.dumps(head))
    with pytest.raises(LedgerError, match="not a ledger file in its own folder") as caught:
        list(store.entries())
    assert "ledger repair" in str(caught.value)
    assert store.repair()["adopted"] == ledger_files(Path(str(store.folder)))[0]
    assert list(store.entries()) == [entry("a.png")]


def test_repair_refuses_a_named_file_outside_the_folder(tmp_path: Path) -> None:
    store = LedgerStore(str(tmp_path / "state"), "sync")
    store.commit("r1", [entry("a.png")])
    with pytest.raises(LedgerError, match="--ledger"):
        store.repair(ledger="../../x/ledger-r-1.tsv.gz")


def test_parse_head_reads_old_heads() -> None:
    head = parse_head('{"ledger": "ledger-r-1f.tsv.gz", "entries": 2, "sha256": "ab"}', "HEAD.json")
    assert head["destination"] is None and head["entries"] == 2


# -- size -------------------------------------------------------------------------------------------------------


def test_no_new_file_when_nothing_is_new(tmp_path: Path) -> None:
    store = LedgerStore(str(tmp_path / "state"), "sync", dest())
    first = store.commit("r1", [entry("a.png"), entry("b.png")])
    assert store.commit("r2", [])["ledger"] == first["ledger"]
    assert store.commit("r3", [entry("a.png")])["ledger"] == first["ledger"]  # held as it is: a duplicate answer
    assert len(ledger_files(Path(str(store.folder)))) == 1
    changed = store.commit("r4", [entry("a.png", "new")])
    assert changed["ledger"] != first["ledger"] and changed["entries"] == 2


def test_older_files_are_pruned_beyond_keep_and_repair_still_has_a_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_head, "PRUNE_GRACE_NS", 0)  # files written just now count as old
    store = LedgerStore(str(tmp_path / "state"), "sync", dest(), keep=2)
    for number in range(5):
        store.commit(f"r{number}", [entry(f"{number}.png")])
    folder = Path(str(store.folder))
    files = ledger_files(folder)
    assert len(files) == 2
    current = json.loads(store.head_path.read_text())["ledger"]
    (folder / current).write_bytes(b"damaged")
    result = store.repair()
    assert result["adopted"] != current and result["adopted"] in files
    assert [e.url for e in store.entries()] == [entry(f"{n}.png").url for n in range(4)]


def test_files_of_the_last_hour_are_never_pruned() -> None:
    hour = 3600 * 10**9
    names = [f"ledger-r-{ns:x}.tsv.gz" for ns in (1 * hour, 2 * hour, 3 * hour, 4 * hour, 5 * hour)]
    newest = names[::-1]  # prunable answers newest first
    assert prunable(names, 2, names[-1], now_ns=5 * hour) == newest[2:]  # all but the newest two
    assert prunable(names, 2, names[-1], now_ns=int(3.5 * hour)) == newest[3:]  # 3 h is younger than an hour
    assert prunable(names, 2, names[-1], now_ns=int(2.5 * hour)) == newest[4:]
    assert prunable(names, 2, names[0], now_ns=10 * hour) == newest[2:4]  # never the head's file


def test_keep_below_two_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="at least 2"):
        LedgerStore(str(tmp_path), "sync", keep=1)
    with pytest.raises(ValueError, match="at least 2"):
        prunable([], 1, "x", now_ns=0)


# -- concurrency on a local folder ------------------------------------------------------------------------------


@pytest.mark.parametrize("writers", [2, 8])
def test_concurrent_commits_from_threads_keep_every_entry(tmp_path: Path, writers: int) -> None:
    state = str(tmp_path / "state")

    def commit(number: int) -> None:
        LedgerStore(state, "sync", dest()).commit(f"run {number}", [entry(f"{number}/{i:03d}.png") for i in range(50)])

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(commit, range(writers)))
    store = LedgerStore(state, "sync", dest())
    assert len(list(store.entries())) == 50 * writers
    assert len(ledger_files(Path(str(store.folder)))) == writers  # one per commit: the losers removed theirs


def _process_commit(state: str, number: int) -> None:
    LedgerStore(state, "sync", dest()).commit(f"run {number}", [entry(f"{number}/{i:03d}.png") for i in range(50)])


def test_concurrent_commits_from_processes_keep_every_entry(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    context = multiprocessing.get_context("fork")  # spawn would import Airflow once per process
    processes = [context.Process(target=_process_commit, args=(state, n)) for n in range(8)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    assert [p.exitcode for p in processes] == [0] * 8
    assert len(list(LedgerStore(state, "sync", dest()).entries())) == 400


# -- the probe cache --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("uri", ["s3://bucket/cache", "gs://b/c", "abfs://c/p", "S3://bucket/cache"])
def test_a_probe_cache_uri_is_refused(uri: str) -> None:
    with pytest.raises(ConfigError, match="probe_cache") as caught:
        probe_cache_folder(uri)
    assert uri in str(caught.value) and "local path" in str(caught.value)


def test_a_probe_cache_path_or_file_uri_is_a_local_folder(tmp_path: Path) -> None:
    assert probe_cache_folder(str(tmp_path)) == tmp_path
    assert probe_cache_folder(f"file://{tmp_path}") == tmp_path
    assert probe_cache_folder("relative/cache") == Path("relative/cache")


def test_a_storage_without_conditional_writes_is_refused() -> None:
    import fsspec

    from airflow_ingest.storage.ledger_cas import VersionedObject

    class MemoryPath:  # what VersionedObject reads of an ObjectStoragePath, on fsspec's real memory filesystem
        fs = fsspec.filesystem("memory")
        path = "/state/sync/HEAD.json"

    with pytest.raises(LedgerError, match=r"memory:// cannot be committed safely .* abfs://"):
        VersionedObject(MemoryPath())
