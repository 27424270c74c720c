"""The ledger's store on a local folder: commits, refusing what cannot be trusted, and repairing the head."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from airflow_ingest.core.ledger import FORMAT_2, Entry, LedgerError
from airflow_ingest.pipeline.ledger_store import LedgerStore


def entry(key: str, etag: str = "etag") -> Entry:
    return Entry(f"s3://bucket/{key}", etag, f"/{key}")


def store(tmp_path: Path) -> LedgerStore:
    return LedgerStore(str(tmp_path / "state"), "sync")


def folder(tmp_path: Path) -> Path:
    return tmp_path / "state" / "sync"


def head(tmp_path: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((folder(tmp_path) / "HEAD.json").read_text())
    return loaded


def test_commits_write_format_2_files_and_merge(tmp_path: Path) -> None:
    ledger = store(tmp_path)
    first = ledger.commit("run 1", [entry("a.png"), entry("c.png")])
    second = ledger.commit("run 2", [entry("b.png"), entry("c.png", "new")])
    assert first["ledger"] != second["ledger"] and str(second["ledger"]).endswith(".tsv.gz")
    assert second["entries"] == 3 and head(tmp_path) == second
    assert list(ledger.entries()) == [entry("a.png"), entry("b.png"), entry("c.png", "new")]
    text = gzip.decompress((folder(tmp_path) / str(second["ledger"])).read_bytes()).decode()
    assert text.startswith(FORMAT_2)


def test_a_format_1_ledger_loads_and_the_next_commit_rewrites_it(tmp_path: Path) -> None:
    import hashlib

    folder(tmp_path).mkdir(parents=True)
    lines = "".join(json.dumps({"url": e.url, "etag": e.etag, "item": e.item}) + "\n" for e in [entry("a.png")])
    data = gzip.compress(lines.encode(), mtime=0)
    (folder(tmp_path) / "ledger-old-1.jsonl.gz").write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    (folder(tmp_path) / "HEAD.json").write_text(
        json.dumps({"ledger": "ledger-old-1.jsonl.gz", "entries": 1, "sha256": sha})
    )
    ledger = store(tmp_path)
    assert list(ledger.entries()) == [entry("a.png")]
    ledger.commit("run", [entry("b.png")])
    assert list(ledger.entries()) == [entry("a.png"), entry("b.png")]
    assert str(head(tmp_path)["ledger"]).endswith(".tsv.gz")


@pytest.mark.parametrize("damage", ["altered", "missing", "head", "count", "corrupt inside"])
def test_untrusted_ledgers_are_refused_with_the_repair_advice(tmp_path: Path, damage: str) -> None:
    import hashlib

    ledger = store(tmp_path)
    committed = ledger.commit("run", [entry("a.png"), entry("b.png")])
    path = folder(tmp_path) / str(committed["ledger"])
    if damage == "altered":
        data = path.read_bytes()
        path.write_bytes(data[:20] + bytes([data[20] ^ 1]) + data[21:])
    elif damage == "missing":
        path.unlink()
    elif damage == "head":
        (folder(tmp_path) / "HEAD.json").write_text("{not json")
    elif damage == "count":
        (folder(tmp_path) / "HEAD.json").write_text(json.dumps({**committed, "entries": 3}))
    else:  # a file whose head matches it but whose content is not a ledger: refused when read, with the path
        data = gzip.compress((FORMAT_2 + "s3://bucket/a.png\tonly two fields\n").encode())
        path.write_bytes(data)
        sha = hashlib.sha256(data).hexdigest()
        (folder(tmp_path) / "HEAD.json").write_text(json.dumps({**committed, "sha256": sha}))
    with pytest.raises(LedgerError, match=r"`airflow-ingest ledger repair --state .* --sync-name .*`.*move .* aside"):
        list(ledger.entries())


def test_repair_points_a_broken_head_at_the_newest_intact_file(tmp_path: Path) -> None:
    ledger = store(tmp_path)
    ledger.commit("one", [entry("a.png")])
    second = ledger.commit("two", [entry("b.png")])
    (folder(tmp_path) / "HEAD.json").write_text("")
    with pytest.raises(LedgerError):
        list(ledger.entries())
    files = sorted(p.name for p in folder(tmp_path).iterdir())
    repaired = ledger.repair()
    assert repaired["adopted"] == second["ledger"] and repaired["skipped"] == []
    assert repaired["head"]["sha256"] == second["sha256"] and repaired["head"]["entries"] == 2
    assert list(ledger.entries()) == [entry("a.png"), entry("b.png")]
    assert sorted(p.name for p in folder(tmp_path).iterdir()) == files  # no file written or deleted, HEAD replaced


def test_repair_passes_over_altered_and_cut_files_and_adds_lost_entries(tmp_path: Path) -> None:
    ledger = store(tmp_path)
    first = ledger.commit("one", [entry("a.png")])
    second = ledger.commit("two", [entry("b.png")])
    third = ledger.commit("three", [entry("c.png")])
    third_path = folder(tmp_path) / str(third["ledger"])
    third_path.write_bytes(third_path.read_bytes()[:-8])  # cut short: fails its checksum, and reading
    second_path = folder(tmp_path) / str(second["ledger"])
    data = gzip.decompress(second_path.read_bytes()).decode()
    second_path.write_bytes(gzip.compress(data.replace("\tetag\t", "\tETAG\t").encode()))  # altered, still readable
    (folder(tmp_path) / "HEAD.json").write_text(json.dumps(second))  # a head naming the altered file
    repaired = ledger.repair("repair-run", add=[entry("c.png")])
    reasons = {s["ledger"]: s["reason"] for s in repaired["skipped"]}
    assert set(reasons) == {second["ledger"], third["ledger"]} and "checksum" in reasons[str(second["ledger"])]
    assert repaired["adopted"] == first["ledger"]
    assert list(ledger.entries()) == [entry("a.png"), entry("c.png")]
    assert repaired["head"]["run_id"] == "repair-run"


def test_repair_refuses_without_an_intact_file_unless_told_to_start_empty(tmp_path: Path) -> None:
    ledger = store(tmp_path)
    committed = ledger.commit("one", [entry("a.png")])
    (folder(tmp_path) / str(committed["ledger"])).write_bytes(b"not gzip")
    with pytest.raises(LedgerError, match=r"no intact ledger file.*allow_empty"):
        ledger.repair()
    repaired = ledger.repair(allow_empty=True, add=[entry("z.png")])
    assert repaired["adopted"] is None and list(ledger.entries()) == [entry("z.png")]


def test_repair_adopts_a_named_file(tmp_path: Path) -> None:
    ledger = store(tmp_path)
    first = ledger.commit("one", [entry("a.png")])
    ledger.commit("two", [entry("b.png")])
    repaired = ledger.repair(ledger=str(first["ledger"]))
    assert repaired["adopted"] == first["ledger"] and list(ledger.entries()) == [entry("a.png")]
    with pytest.raises(LedgerError, match="missing"):
        ledger.repair(ledger="ledger-nothing-1.tsv.gz")
