"""The Ingest view in the real Airflow UI: a run with blocked and failed items, seen from the run page and the links.

One ``ingest_manual`` run registers two cameras' folders (44 items) into the fake V7 in batches of 4, one register
task, so the batches go in order: the first request answers 500 (the connection allows one attempt, so its 4 items
fail, retryable, and get a retry manifest), the second 400 (4 items fail for good), and V7 blocks every
``frame_001x.jpg`` (20 items). The browser then opens the run's Ingest tab, checks the counts against the report
the run wrote, searches and pages the problems, follows the report task's "Ingest report" link and a retry
manifest, and the DAG's history tab. Shares the stack and the page with ``test_airflow_ui.py`` (``conftest.py``).
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from typing import Any
from urllib.parse import quote

import pytest

from airflow_ingest.operators.links import ingest_view_url
from tests.stack import BUCKET, FORM_DAG, Stack
from tests.ui.browser import open_section, shot

pytestmark = pytest.mark.slow

PREFIX = "raw/berlin/2026-11-02/"
DATASET = "view-dataset"
CONN = "darwin_once"
BLOCKED = r"^frame_001\d\.jpg$"


@pytest.fixture(scope="module")
def run_id(stack: Stack) -> str:
    """The run the tests look at: 16 registered, 20 blocked, 8 failed (4 of them retryable)."""
    assert stack.darwin is not None
    stack.darwin.configure(
        datasets=["demo-dataset", DATASET],
        block={BLOCKED: "UNSUPPORTED_FORMAT: the view test blocks it"},
        faults=[{"status": 500}, {"status": 400}],
    )
    extra = json.loads(stack.darwin.conn(max_attempts=1))
    answer = stack.session().post(
        f"{stack.url}/api/v2/connections",
        json={
            "connection_id": CONN,
            "conn_type": "darwin",
            "host": extra["host"],
            "password": extra["password"],
            "extra": json.dumps(extra["extra"]),
        },
        timeout=30,
    )
    assert answer.status_code in (200, 201, 409), answer.text
    conf = {
        "source": f"s3://{BUCKET}/{PREFIX}",
        "platform": "darwin",
        "dataset_slug": DATASET,
        "platform_conn_id": CONN,
        "max_entries": 4,
        "register_tasks": 1,
        "fail_on": "never",
    }
    run = stack.trigger(FORM_DAG, conf)
    state = stack.wait_run(FORM_DAG, run, timeout=240)
    stack.darwin.configure(block={}, faults=[])
    assert state["state"] == "success", f"run {run} ended {state['state']}: {stack.unfinished_tasks(FORM_DAG, run)}"
    return run


def report_rows(stack: Stack, run_id: str) -> list[dict[str, str]]:
    folder = stack.home.path / "ingest-workspace" / FORM_DAG / run_id / "darwin"
    with (folder / "report.csv").open() as report:
        return list(csv.DictReader(report))


def frame(page: Any) -> Any:
    """The plugin's page inside the run page's Ingest tab (an iframe)."""
    return page.frame_locator("iframe").first


def test_the_run_page_s_ingest_tab_shows_counts_chart_problems_and_links(page: Any, stack: Stack, run_id: str) -> None:
    from playwright.sync_api import expect

    rows = report_rows(stack, run_id)
    counts = Counter(row["outcome"] for row in rows)
    assert (len(rows), counts["registered"], counts["blocked"], counts["failed"]) == (44, 16, 20, 8)

    page.goto(f"{stack.url}/dags/{FORM_DAG}/runs/{quote(run_id, safe='')}", wait_until="domcontentloaded")
    page.get_by_role("tab", name="Ingest").or_(page.get_by_role("link", name="Ingest", exact=True)).first.click()
    page.wait_for_url(re.compile(r".*/plugin/ingest$"))
    view = frame(page)
    table = view.get_by_test_id("counts-darwin")
    expect(table).to_be_visible(timeout=30_000)  # the first view of a report reads it
    for label, value in [("items", 44), ("registered", 16), ("blocked", 20), ("failed", 8), ("retryable", 4)]:
        expect(table.locator(f"[data-count='{label}']")).to_have_text(f"{value:,}")
    expect(view.get_by_test_id("by-target")).to_contain_text(f"dataset_slug {DATASET}")
    expect(view.get_by_test_id("target-link")).to_have_attribute(
        "href", re.compile(r"/datasets/\d+/dataset-management$")
    )
    expect(view.get_by_test_id("batch-chart-darwin").locator("g")).to_have_count(11)  # one bar per batch
    problems = view.get_by_test_id("problems-darwin")
    expect(problems.locator(".status")).to_have_text("28 matching")
    shot(page, "10-ingest-view-run")

    problems.get_by_label("Search problems").fill("cam1/frame_0015")
    problems.get_by_role("button", name="Search").click()
    expect(problems.locator(".status")).to_have_text("1 matching")
    expect(problems.locator("tbody tr")).to_have_count(1)
    expect(problems.locator("tbody tr td").nth(2)).to_have_text("UNSUPPORTED_FORMAT: the view test blocks it")
    shot(page, "11-ingest-view-search")

    problems.get_by_label("Search problems").fill("")
    problems.get_by_label("Outcome").select_option("failed")
    expect(problems.locator(".status")).to_have_text("8 matching")
    problems.get_by_label("Outcome").select_option("")
    problems.get_by_label("Rows per page").select_option("25")
    problems.get_by_role("button", name="Search").click()
    expect(problems.locator(".page")).to_have_text("page 1 of 2")
    expect(problems.locator("tbody tr")).to_have_count(25)
    problems.get_by_role("button", name="Next").click()
    expect(problems.locator(".page")).to_have_text("page 2 of 2")
    expect(problems.locator("tbody tr")).to_have_count(3)
    shot(page, "12-ingest-view-page-2")

    manifests = view.get_by_test_id("retry-manifests").locator("a")
    expect(manifests).to_have_count(1)
    href = manifests.first.get_attribute("href")
    assert href is not None
    body = page.request.get(f"{stack.url}/ingest/{href}").json()  # the page's <base> is the app's prefix
    assert len(body["items"]) == 4 and {item["name"] for item in body["items"]} <= {
        "clip_0.mp4", "clip_1.mp4", "frame_0000.jpg", "frame_0001.jpg"}  # fmt: skip


def test_the_report_task_s_extra_link_opens_the_ingest_view(page: Any, stack: Stack, run_id: str) -> None:
    from playwright.sync_api import expect

    expected = ingest_view_url(FORM_DAG, run_id, stack.url)
    links = (
        stack.session().get(f"{stack.run_url(FORM_DAG, run_id)}/taskInstances/darwin.report/links", timeout=30).json()
    )
    assert links["extra_links"]["Ingest report"] == expected
    page.goto(f"{stack.url}/dags/{FORM_DAG}/runs/{quote(run_id, safe='')}/tasks/darwin.report/details")
    button = page.get_by_role("link", name="Ingest report")  # under "Extra Links" on the task instance's details
    expect(button).to_have_attribute("href", expected)
    shot(page, "13-report-task-extra-link")
    button.evaluate("a => a.removeAttribute('target')")  # open it here rather than in a new tab
    button.click()
    page.wait_for_url(re.compile(r".*/plugin/ingest$"))
    expect(frame(page).get_by_test_id("counts-darwin").locator("[data-count='blocked']")).to_have_text("20")
    register = stack.session().get(
        f"{stack.run_url(FORM_DAG, run_id)}/taskInstances/darwin.register/links", params={"map_index": 0}, timeout=30
    )
    assert register.json()["extra_links"]["Ingest report"] == expected


def test_the_dag_s_history_tab_and_the_api_stay_behind_the_login(page: Any, stack: Stack, run_id: str) -> None:
    import requests
    from playwright.sync_api import expect

    page.goto(f"{stack.url}/dags/{FORM_DAG}/plugin/ingest-history", wait_until="domcontentloaded")
    history = frame(page).locator("section#darwin")
    expect(history.get_by_test_id("history")).to_contain_text(run_id)
    expect(history.get_by_test_id("history-chart")).to_be_visible()
    shot(page, "14-ingest-history")
    recent = stack.session().get(f"{stack.url}/ingest/", timeout=30)  # Browse -> Ingest
    assert recent.status_code == 200 and run_id in recent.text
    api = f"{stack.url}/ingest/api/runs/{FORM_DAG}/{quote(run_id, safe='')}/problems"
    assert requests.get(api, params={"group": "darwin"}, timeout=30).status_code in (401, 403)
    answer = stack.session().get(api, params={"group": "darwin", "q": "frame_001", "size": 5, "page": 4}, timeout=30)
    assert answer.status_code == 200 and answer.json()["total"] == 20 and len(answer.json()["rows"]) == 5


def test_the_form_shows_the_globs_optional_and_skipped_groups_log_no_xcom_error(
    page: Any, stack: Stack, run_id: str
) -> None:
    from playwright.sync_api import expect

    page.goto(f"{stack.url}/dags/{FORM_DAG}", wait_until="domcontentloaded")
    page.get_by_role("button", name=re.compile(r"^Trigger", re.I)).first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Trigger Dag - {FORM_DAG}")
    open_section(dialog, "Source")
    source = dialog.locator("label", has_text=re.compile(r"^Source"))
    expect(source.first).to_have_attribute("data-required", re.compile(".*"))  # the check can see a required field
    for title in ("Include globs", "Exclude globs"):
        label = dialog.locator("label", has_text=title)
        expect(label).to_have_count(1)
        assert label.get_attribute("data-required") is None, f"{title} is marked required"
    shot(page, "15-trigger-form-globs-optional")
    dialog.get_by_role("button", name="Close").click()
    session = stack.session()
    for group in ("encord", "redbrick"):
        log = session.get(
            f"{stack.run_url(FORM_DAG, run_id)}/taskInstances/{group}.report/logs/1",
            headers={"Accept": "application/x-ndjson"},
            timeout=30,
        )
        assert log.status_code == 200, log.text
        assert "XCom not found" not in log.text and "skipped" in log.text.lower(), log.text[-2000:]
