"""The browser tests' shared stack and page: one ``make up`` stack and one logged-in Chromium for the package.

Both ``test_airflow_ui.py`` and ``test_ingest_view.py`` use them, so the stack (about 45 s to start) starts once.
The browser is Debian's Chromium driven by Playwright (no ``playwright install``: its downloaded browsers do not
run on this machine's distribution). Screenshots go to ``.test-output/ui/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.stack import USER, Stack, one_stack_at_a_time, stack_objects
from tests.ui.browser import OUT

CHROMIUM = Path(os.environ.get("AIRFLOW_INGEST_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="package")
def chromium() -> Path:
    """Fails (never skips) without the browser, so a machine that cannot run this test says so."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: install Debian's package with "
            "`sudo apt-get install -y chromium` (`make test` does it as root), or point AIRFLOW_INGEST_CHROMIUM at a "
            "Chromium binary. Playwright's own browsers (`playwright install`) are not used."
        )
    return CHROMIUM


@pytest.fixture(scope="package")
def stack(chromium: Path) -> Iterator[Stack]:
    # `--dist loadfile` may give the two test files to two xdist workers, each with its own package fixtures:
    # each stack then needs a folder of its own (one wiped the other's Airflow home mid-migration).
    with one_stack_at_a_time():
        running = Stack.start(
            OUT / "stack" / (os.environ.get("PYTEST_XDIST_WORKER") or "main"), objects=stack_objects()
        )
        yield running
        running.stop()


@pytest.fixture(scope="package")
def page(chromium: Path, stack: Stack) -> Iterator[Any]:
    """One logged-in browser page for the package (the simple auth manager's generated admin password)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), headless=True, args=LAUNCH_ARGS)
        try:
            tab = browser.new_context(viewport={"width": 1400, "height": 1200}).new_page()
            tab.set_default_timeout(30_000)
            # The SPA redirects to the login page after the first load; waiting for the URL is what is reliable.
            tab.goto(f"{stack.url}/", wait_until="domcontentloaded")
            tab.wait_for_url(re.compile(r".*/auth/login.*"))
            tab.get_by_label("Username").fill(USER)
            tab.get_by_label("Password").fill(stack.password)
            tab.get_by_role("button", name="Sign in").click()
            tab.wait_for_url(lambda url: "/auth/login" not in url)
            yield tab
        finally:
            browser.close()
