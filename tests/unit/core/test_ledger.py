"""The ledger: streaming selection against a sorted ledger, merging, checksummed files."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_ingest.core import ledger as ledger_module
from airflow_ingest.core.ledger import (
    FORMAT_2,
    Entry,
    LedgerError,
    OnChange,
    ledger_file_name,
    merge_entries,
    newest_first,
    read_entries,
    select,
    verify_entries,
    write_entries,
)
from airflow_ingest.core.objects import StoredObject
from tests.unit.test_core import obj


def entry(key: str, etag: str = "etag") -> Entry:
    return Entry(f"s3://bucket/{key}", etag, f"/{key}")


def test_selection_sends_only_new_and_reports_changed_and_vanished() -> None:
    listing = [obj("d/a.png"), obj("d/b.png"), obj("d/c.png")]
    ledger = [entry("d/a.png"), entry("d/b.png", "old"), entry("d/gone.png"), entry("z/outside.png")]
    sent, selection = select(listing, ledger, scope="s3://bucket/d/")
    assert [o.key for o in sent] == ["d/c.png"]
    assert selection.counts == {"new": 1, "changed": 1, "unchanged": 1, "vanished": 1}
    assert selection.changed == ["s3://bucket/d/b.png"] and selection.vanished == ["s3://bucket/d/gone.png"]


def test_changed_objects_are_resent_when_asked_and_filters_mute_vanished() -> None:
    ledger = [entry("a.png", "old"), entry("b.png")]
    sent, selection = select([obj("a.png")], ledger, scope="s3://bucket/", exhaustive=False, on_change=OnChange.RESEND)
    assert [o.key for o in sent] == ["a.png"]
    assert selection.counts["vanished"] == 0


def test_merge_updates_and_adds_in_one_sorted_pass() -> None:
    old = [entry("a.png", "1"), entry("c.png", "1")]
    new = [entry("a.png", "2"), entry("b.png", "1")]
    assert [(e.url[-5:], e.etag) for e in merge_entries(old, new)] == [("a.png", "2"), ("b.png", "1"), ("c.png", "1")]


def test_files_round_trip_with_a_stable_checksum_and_refuse_disorder() -> None:
    entries = [entry(f"{i:03d}.png") for i in range(50)]
    first, second = io.BytesIO(), io.BytesIO()
    count, digest = write_entries(entries, first)
    assert (count, digest) == write_entries(entries, second) and first.getvalue() == second.getvalue()
    first.seek(0)
    assert list(read_entries(first)) == entries
    with pytest.raises(LedgerError, match="out of order"):
        write_entries([entry("b.png"), entry("a.png")], io.BytesIO())


@given(
    listed=st.sets(st.integers(0, 60), max_size=40),
    known=st.dictionaries(st.integers(0, 60), st.sampled_from(["etag", "other"]), max_size=40),
)
def test_selection_partitions_the_listing(listed: set[int], known: dict[int, str]) -> None:
    listing = [obj(f"{i:03d}.png") for i in sorted(listed)]
    ledger = [entry(f"{i:03d}.png", etag) for i, etag in sorted(known.items())]
    sent, selection = select(listing, ledger, scope="s3://bucket/")
    sent_keys = [o.key for o in sent]
    assert sent_keys == [f"{i:03d}.png" for i in sorted(listed - set(known))]
    counts = selection.counts
    assert counts["new"] + counts["changed"] + counts["unchanged"] == len(listing)
    assert counts["vanished"] == len(set(known) - listed)
    # committing what was sent makes the next selection send nothing
    committed = list(merge_entries(ledger, [entry(k) for k in sent_keys]))
    again, _ = select(listing, committed, scope="s3://bucket/", on_change=OnChange.REPORT)
    assert list(again) == []


def test_sorted_entries_spills_and_merges() -> None:
    from airflow_ingest.core.ledger import sorted_entries

    keys = [f"{(i * 7919) % 1000:04d}.png" for i in range(1000)]
    result = list(sorted_entries((entry(k) for k in keys), chunk=64))
    assert [e.url for e in result] == sorted(entry(k).url for k in keys)


# Format 2 and the faster merge (issue 8): the files, the old format, and select against the old algorithm.

fields = st.text(max_size=12)  # tabs, newlines, carriage returns, backslashes, "\\t" as text, anything


@given(st.dictionaries(st.text(min_size=1, max_size=12), st.tuples(fields, fields), max_size=30))
@settings(deadline=None)
def test_format_2_round_trips_any_field(known: dict[str, tuple[str, str]]) -> None:
    entries = [Entry(url, etag, item) for url, (etag, item) in sorted(known.items())]
    stream = io.BytesIO()
    assert write_entries(entries, stream)[0] == len(entries)
    assert gzip.decompress(stream.getvalue()).decode().startswith(FORMAT_2)
    stream.seek(0)
    assert list(read_entries(stream)) == entries


def test_format_2_is_read_across_blocks_with_and_without_escapes(monkeypatch: pytest.MonkeyPatch) -> None:
    odd = "\t\\x\n"
    entries = [Entry(f"s3://b/{i:05d}{odd if i % 97 == 0 else ''}.png", f"e{i}", f"/{i}") for i in range(3000)]
    stream = io.BytesIO()
    write_entries(entries, stream)
    monkeypatch.setattr(ledger_module, "_BLOCK", 50)
    stream.seek(0)
    assert list(read_entries(stream)) == entries


def test_format_1_ledgers_still_load() -> None:
    old = [Entry("s3://b/a.png", "1", "/a.png"), Entry('s3://b/q"\tb.png', "2", "/ü")]
    lines = "".join(json.dumps({"url": e.url, "etag": e.etag, "item": e.item}, ensure_ascii=False) + "\n" for e in old)
    assert list(read_entries(io.BytesIO(gzip.compress(lines.encode())))) == old
    assert list(read_entries(io.BytesIO(gzip.compress(b"")))) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# airflow-ingest ledger, format 3: something new\n", "format 3"),
        ("url,etag,item\n", "not a ledger file"),
        (FORMAT_2 + "s3://b/a\te\n", "2 fields"),
        (FORMAT_2 + "s3://b/a\te\ti\tx\n", "4 fields"),
        (FORMAT_2 + "s3://b/a\te\\q\ti\n", "unknown escape"),
        (FORMAT_2 + "s3://b/a\te\ti\ns3://b/b\te\ti", "ends inside a line"),
        (FORMAT_2 + "s3://b/a\te\ti\n\n", "1 fields"),
    ],
)
def test_bad_ledger_files_are_refused(text: str, message: str) -> None:
    with pytest.raises(LedgerError, match=message):
        list(read_entries(io.BytesIO(gzip.compress(text.encode()))))


def test_a_line_short_a_field_is_refused_even_when_another_has_one_too_many() -> None:
    text = FORMAT_2 + "s3://b/a\te\n" + "s3://b/b\te\ti\tx\n"  # four tabs in two lines: counts alone would pass
    with pytest.raises(LedgerError, match="fields"):
        list(read_entries(io.BytesIO(gzip.compress(text.encode()))))


def test_verify_entries_counts_and_refuses_disorder_and_cut_files() -> None:
    stream = io.BytesIO()
    write_entries([entry(f"{i}.png") for i in range(10)], stream)
    assert verify_entries(io.BytesIO(stream.getvalue())) == 10
    unsorted = gzip.compress((FORMAT_2 + "s3://b/b\te\ti\ns3://b/a\te\ti\n").encode())
    with pytest.raises(LedgerError, match="out of order"):
        verify_entries(io.BytesIO(unsorted))
    with pytest.raises(LedgerError, match="unreadable"):
        verify_entries(io.BytesIO(stream.getvalue()[:-12]))


def test_ledger_files_newest_first() -> None:
    names = ["HEAD.json", "ledger-run_1-17f.jsonl.gz", "ledger-a-b-1a0.tsv.gz", "ledger-x-100.tsv.gz", "other.gz"]
    assert newest_first(names) == ["ledger-a-b-1a0.tsv.gz", "ledger-run_1-17f.jsonl.gz", "ledger-x-100.tsv.gz"]
    assert newest_first([ledger_file_name("run", 5)]) == ["ledger-run-5.tsv.gz"]


def reference_select(
    objects: list[StoredObject], ledger: list[Entry], scope: str, exhaustive: bool, on_change: OnChange
) -> tuple[list[str], dict[str, int], list[str], list[str]]:
    """select() as it was before its hot loop was unrolled: the meaning the new one must keep."""
    counts = {"new": 0, "changed": 0, "unchanged": 0, "vanished": 0}
    changed: list[str] = []
    vanished: list[str] = []
    sent: list[str] = []
    known = iter([e for e in ledger if e.url.startswith(scope)])
    current = next(known, None)
    for o in objects:
        while current is not None and current.url < o.url:
            if exhaustive:
                counts["vanished"] += 1
                vanished.append(current.url)
            current = next(known, None)
        if current is not None and current.url == o.url:
            if current.etag == o.etag:
                counts["unchanged"] += 1
            else:
                counts["changed"] += 1
                changed.append(o.url)
                if on_change is OnChange.RESEND:
                    sent.append(o.url)
            current = next(known, None)
        else:
            counts["new"] += 1
            sent.append(o.url)
    while current is not None:
        if exhaustive:
            counts["vanished"] += 1
            vanished.append(current.url)
        current = next(known, None)
    return sent, counts, changed, vanished


@given(
    listed=st.sets(st.integers(0, 40), max_size=30),
    known=st.dictionaries(
        st.tuples(st.sampled_from(["a/", "d/", "d/x/", "dz/", "z/"]), st.integers(0, 40)),
        st.sampled_from(["etag", "other"]),
        max_size=40,
    ),
    exhaustive=st.booleans(),
    on_change=st.sampled_from(list(OnChange)),
)
@settings(deadline=None)
def test_select_matches_the_reference_and_its_counts_are_right_whenever_looked_at(
    listed: set[int], known: dict[tuple[str, int], str], exhaustive: bool, on_change: OnChange
) -> None:
    listing = [obj(f"d/{i:03d}.png") for i in sorted(listed)]
    ledger = sorted((entry(f"{folder}{i:03d}.png", etag) for (folder, i), etag in known.items()), key=lambda e: e.url)
    read = []

    def reading() -> Iterator[Entry]:
        for e in ledger:
            read.append(e)
            yield e

    sent, selection = select(listing, reading(), scope="s3://bucket/d/", exhaustive=exhaustive, on_change=on_change)
    got = []
    for o in sent:
        got.append(o.url)
        # whenever the caller holds an object, the counts cover every listed object up to it
        assert sum(selection.counts[k] for k in ("new", "changed", "unchanged")) == listing.index(o) + 1
    expected = reference_select(listing, ledger, "s3://bucket/d/", exhaustive, on_change)
    assert (got, selection.counts, selection.changed, selection.vanished) == expected
    assert read == ledger  # read to its end, so a store's reader checks its entry count
