"""The ledger: streaming selection against a sorted ledger, merging, checksummed files."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_ingest.core.ledger import Entry, LedgerError, OnChange, merge_entries, read_entries, select, write_entries
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
