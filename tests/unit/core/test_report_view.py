"""The Ingest view's report index: counts, chart bars and server-side paging and search, up to 100,000 items.

No timed assertion here: ``python -m bench --only ui`` measures how long indexing and paging take.
"""

from __future__ import annotations

import io
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_ingest.core.outcomes import ReportRow, ReportWriter
from airflow_ingest.core.report_view import MAX_BARS, index_report
from airflow_ingest.plugins.charts import stacked_bars
from airflow_ingest.plugins.pages import target_text


def outcome_of(n: int) -> tuple[str, str, bool]:
    """Every 10th item failed (every other one retryable), every 25th blocked, every 7th a duplicate."""
    if n % 10 == 3:
        return "failed", f"HTTP 500 at item {n}", n % 20 == 3
    if n % 25 == 4:
        return "blocked", "UNSUPPORTED_FORMAT: <script>alert(1)</script>", False
    if n % 7 == 0:
        return "duplicate", "ALREADY_EXISTS", False
    return "registered", "", False


def report_csv(items: int, per_batch: int = 100) -> str:
    csv_out, json_out = io.StringIO(), io.StringIO()
    writer = ReportWriter(csv_out, json_out)
    for n in range(items):
        outcome, reason, retryable = outcome_of(n)
        writer.add(
            ReportRow(
                item=f"/cam{n % 4}/frame_{n:06d}.jpg",
                objects=f"s3://bucket/cam{n % 4}/frame_{n:06d}.jpg",
                platform="darwin",
                outcome=outcome,
                reason=reason,
                retryable=retryable,
                batch=n // per_batch + 1,
            )
        )
    writer.close()
    return csv_out.getvalue()


@pytest.fixture(scope="module")
def big() -> str:
    return report_csv(100_000)


def test_a_100000_item_report_is_counted_charted_and_paged_on_the_server(big: str) -> None:
    index = index_report(io.StringIO(big))

    expected = Counter(outcome_of(n)[0] for n in range(100_000))
    assert {k: index.totals[k] for k in expected} == dict(expected)
    assert index.totals["items"] == 100_000
    assert index.totals["retryable"] == sum(1 for n in range(100_000) if outcome_of(n)[2])
    problems = expected["failed"] + expected["blocked"]
    assert len(index.problems) == problems

    bars = index.chart()
    assert len(bars) <= MAX_BARS and bars[0]["batches"] == "1-8" and bars[-1]["batches"].endswith("-1000")
    assert sum(bar["failed"] for bar in bars) == expected["failed"]

    first = index.page(page=1, size=50)
    assert (first["total"], first["pages"], len(first["rows"])) == (problems, -(-problems // 50), 50)
    assert first["rows"][0]["item"] == "/cam3/frame_000003.jpg" and first["rows"][0]["retryable"] is True
    last = index.page(page=first["pages"], size=50)
    assert len(last["rows"]) == problems - 50 * (first["pages"] - 1)
    assert index.page(page=first["pages"] + 1, size=50)["rows"] == []

    found = index.page(query="FRAME_099993", size=10)
    assert [row["item"] for row in found["rows"]] == ["/cam1/frame_099993.jpg"]
    blocked = index.page(query="cam0/", outcome="blocked", page=2, size=20)
    assert blocked["total"] == sum(1 for n in range(100_000) if outcome_of(n)[0] == "blocked" and n % 4 == 0)
    assert all(row["outcome"] == "blocked" and "/cam0/" in row["item"] for row in blocked["rows"])
    assert index.page(query="no such thing")["total"] == 0


def test_paging_arguments_are_checked_naming_the_value() -> None:
    index = index_report(io.StringIO(report_csv(30)))
    with pytest.raises(ValueError, match=r"outcome='registered' is invalid: use one of blocked, failed"):
        index.page(outcome="registered")
    with pytest.raises(ValueError, match=r"size=501 is invalid: give 1 to 500 rows per page"):
        index.page(size=501)
    with pytest.raises(ValueError, match=r"page=0 is invalid"):
        index.page(page=0)


def test_an_empty_report_has_zero_totals_and_no_bars() -> None:
    index = index_report(io.StringIO(report_csv(0)))
    assert index.totals["items"] == 0 and index.chart() == [] and index.page()["pages"] == 1
    assert "nothing to draw" in stacked_bars(index.chart(), label="batches")


@settings(max_examples=40, deadline=None)
@given(items=st.integers(0, 400), per_batch=st.integers(1, 50), size=st.integers(1, 30), query=st.sampled_from(
    ["", "cam1", "500", "frame_0001", "SCRIPT"]))  # fmt: skip
def test_pages_together_hold_exactly_the_matching_problems_in_report_order(
    items: int, per_batch: int, size: int, query: str
) -> None:
    index = index_report(io.StringIO(report_csv(items, per_batch)))
    first = index.page(query=query, size=size)
    seen = [
        row["item"] for p in range(1, first["pages"] + 1) for row in index.page(query=query, page=p, size=size)["rows"]
    ]
    expected = [
        f"/cam{n % 4}/frame_{n:06d}.jpg"
        for n in range(items)
        if outcome_of(n)[0] in ("failed", "blocked")
        and query.lower()
        in f"/cam{n % 4}/frame_{n:06d}.jpg\n{outcome_of(n)[1]}\ns3://bucket/cam{n % 4}/frame_{n:06d}.jpg".lower()
    ]
    assert seen == expected and first["total"] == len(expected)
    bars = index.chart()
    assert sum(sum(bar[k] for k in ("registered", "duplicate", "blocked", "failed")) for bar in bars) == items


def test_the_chart_escapes_labels_and_the_target_shows_only_what_is_set() -> None:
    svg = stacked_bars([{"run": "<b>", "registered": 3, "failed": 1}], label="run")
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "registered 3, duplicate 0, blocked 0, failed 1" in svg
    text = target_text({"target": {"dataset_slug": "d", "fps": None, "readonly": False, "keys": {"a": None}}})
    assert text == "dataset_slug d"


def test_loading_the_plugin_does_not_import_the_api_server() -> None:
    """Every task process loads plugins for their macros: the view's app must not cost them its imports."""
    import subprocess
    import sys

    code = (
        "import sys, airflow_ingest.plugins.ingest_view as v; "
        "print(sorted(m for m in ('airflow.api_fastapi.app', 'airflow_ingest.plugins.app') if m in sys.modules), "
        "[view['url_route'] for view in v.IngestViewPlugin.external_views])"
    )
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert printed.strip() == "[] ['ingest', 'ingest-history', 'ingest-runs']"


def test_a_target_s_history_shows_each_night_and_the_ledger_size() -> None:
    from airflow_ingest.plugins.pages import history_page, history_section

    nights = [
        {
            "run_id": f"scheduled__2026-11-0{n}T00:00:00+00:00",
            "run_after": None,
            "state": "success",
            "totals": {"registered": r, "duplicate": d, "blocked": 0, "failed": f},
            "ledger": {"sync_name": "darwin-nightly", "entries": e},
        }
        for n, (r, d, f, e) in enumerate([(2784, 0, 0, 2784), (0, 0, 0, 2784), (120, 3, 2, 2904)], start=1)
    ]
    page = history_page("nightly_sync", [history_section("nightly_sync", "sync", nights)], "/ingest")
    assert '<base href="/ingest/">' in page and "ledger darwin-nightly" in page
    assert 'data-testid="ledger-chart"' in page and page.count("<title>scheduled__") == 6  # two charts, 3 nights
    assert ">2,904<" in page and page.index("2026-11-03") < page.index("2026-11-01T00:00:00+00:00</a>")
    without = history_section("ingest_manual", "darwin", [{**nights[0], "ledger": None}])
    assert "ledger-chart" not in without and "no ledger recorded" in without
