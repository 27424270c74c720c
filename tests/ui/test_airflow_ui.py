"""The real Airflow UI in a real browser: trigger ``ingest_manual`` from its form, and the connection forms.

The stack is ``make up``'s (:mod:`tests.stack`) on free loopback ports: Airflow's four components on SQLite,
moto S3 and the fake platforms, shared with ``test_ingest_view.py`` (``conftest.py``). The browser is Debian's
Chromium driven by Playwright. Screenshots go to ``.test-output/ui/``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from airflow_ingest.get_provider_info import get_provider_info
from tests.stack import BUCKET, FORM_DAG, Stack, stack_objects
from tests.ui.browser import choose, open_section, shot

pytestmark = pytest.mark.slow

PREFIX = "raw/berlin/2026-11-01/cam0/"
"""One camera's folder: 20 frames and 2 clips to register, and a ``capture.json`` the plan skips."""


def flagged_fields(dialog: Any) -> dict[str, list[str]]:
    """Each section the trigger form marks invalid (an icon after its title), with its empty required fields."""
    return dict(
        dialog.evaluate(
            """d => Object.fromEntries([...d.querySelectorAll("button[id*=':trigger:']")]
                .filter(b => b.querySelector(':scope > .chakra-stack > svg'))
                .map(b => [b.innerText.trim(), [...(document.getElementById(b.getAttribute('aria-controls'))
                    ?.querySelectorAll('label[data-required]') ?? [])]
                    .filter(l => l.closest('[data-part=root]')
                        ?.querySelector('input:not([type=hidden]):not([role]), textarea')?.value === '')
                    .map(l => l.innerText.replace('*', '').trim())]))"""
        )
    )


def test_the_trigger_form_registers_the_prefix_into_v7_darwin(page: Any, stack: Stack) -> None:
    from playwright.sync_api import expect

    assert stack.darwin is not None
    page.goto(f"{stack.url}/dags/{FORM_DAG}", wait_until="domcontentloaded")
    expect(page.get_by_text(FORM_DAG).first).to_be_visible()
    shot(page, "01-dag-page")

    page.get_by_role("button", name=re.compile(r"^Trigger", re.I)).first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Trigger Dag - {FORM_DAG}")
    open_section(dialog, "Source")
    dialog.locator("#element_source").fill(f"s3://{BUCKET}/{PREFIX}")
    open_section(dialog, "Platform")
    choose(page, dialog.locator("div:has(> input[name=element_platform])").get_by_role("combobox"), "V7 Darwin")
    expect(dialog.locator("input[name=element_platform]")).to_have_value("darwin")
    open_section(dialog, "V7 Darwin")
    dialog.locator("#element_dataset_slug").fill("demo-dataset")
    dialog.locator("#element_storage_slug").fill("demo-storage")
    shot(page, "02-trigger-form-filled")

    trigger = dialog.get_by_test_id("trigger-dag-submit")
    try:
        expect(trigger).to_be_enabled(timeout=5_000)
    except AssertionError:
        pytest.fail(
            "the Trigger button stays disabled with only the V7 Darwin fields filled; the form flags "
            f"{flagged_fields(dialog)}: a param another platform needs must not be required (give it a None default "
            "and type ['null', 'string'])"
        )
    trigger.click()
    page.wait_for_url(re.compile(r".*/runs/manual__.*"))
    run_id = page.url.split("/runs/", 1)[1].split("?", 1)[0]
    shot(page, "03-run-started")

    run = stack.wait_run(FORM_DAG, run_id, timeout=240)
    assert run["state"] == "success", f"run {run_id} ended {run['state']}: {stack.unfinished_tasks(FORM_DAG, run_id)}"
    assert (run["conf"]["source"], run["conf"]["platform"]) == (f"s3://{BUCKET}/{PREFIX}", "darwin")
    page.reload(wait_until="domcontentloaded")
    expect(page.get_by_text("Success").first).to_be_visible()
    shot(page, "04-run-succeeded")

    # test_ingest_view.py shares the stack and registers into another dataset
    registered = [r for r in stack.darwin.state()["registered"] if r["dataset"] == "demo-dataset"]
    expected = {key[len(PREFIX) :] for key, _ in stack_objects() if key.startswith(PREFIX)} - {"capture.json"}
    assert len(expected) == 22
    assert {(r["dataset"], r["path"], r["name"]) for r in registered} == {
        ("demo-dataset", "/" + PREFIX.rstrip("/"), name) for name in expected
    }
    assert {r["storage_key"] for r in registered} == {PREFIX + name for name in expected}


@pytest.mark.parametrize("conn_type", [c["connection-type"] for c in get_provider_info()["connection-types"]])
def test_the_connection_form_shows_each_platform_s_own_fields(page: Any, stack: Stack, conn_type: str) -> None:
    from playwright.sync_api import expect

    info = next(c for c in get_provider_info()["connection-types"] if c["connection-type"] == conn_type)
    behaviour = info["ui-field-behaviour"]
    page.goto(f"{stack.url}/connections", wait_until="domcontentloaded")
    if f"{conn_type}_default" in stack.connections():  # make up's connections are listed (Label Studio's only
        expect(page.get_by_text(f"{conn_type}_default").first).to_be_visible()  # when its server was started)
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Add Connection")
    choose(page, dialog.get_by_role("combobox").first, info["hook-name"])

    labels = dialog.locator("label")
    for field_name, label in behaviour["relabeling"].items():
        expect(dialog.get_by_label(label, exact=True)).to_be_visible()
        expect(labels.filter(has_text=re.compile(rf"^{field_name}$", re.I))).to_have_count(0)
    for hidden in behaviour["hidden-fields"]:
        expect(labels.filter(has_text=re.compile(rf"^{hidden}$", re.I))).to_have_count(0)
    shot(page, f"05-connection-form-{conn_type}-standard")
    dialog.locator("button[id$=':trigger:Extra Fields']").click()
    for name, field in info["conn-fields"].items():
        # The UI's labels of extra fields do not point at their inputs (for= and id differ): match by field group.
        group = dialog.locator("[data-scope=field][data-part=root]", has=page.locator(f"[name='element_{name}']"))
        if "enum" in field["schema"]:  # a choice: a select whose value sits in a hidden input
            expect(group.get_by_role("combobox").first).to_be_visible()
        else:
            expect(group.locator(f"[name='element_{name}']")).to_be_visible()
        expect(group.locator("label")).to_have_text(field["label"])
        expect(group).to_contain_text(field["description"])
    shot(page, f"06-connection-form-{conn_type}-extra")
    dialog.get_by_role("button", name="Close").click()
