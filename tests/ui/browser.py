"""Helpers the browser tests share: screenshots and the trigger form's sections and comboboxes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[2] / ".test-output" / "ui"


def shot(page: Any, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


def open_section(dialog: Any, title: str) -> None:
    """The trigger form groups params by ``section`` into accordions that start closed."""
    dialog.locator(f"button[id$=':trigger:{title}']").click()


def choose(page: Any, combobox: Any, option: str) -> None:
    combobox.click()
    page.get_by_role("option", name=option, exact=True).click()
