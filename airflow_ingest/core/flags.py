"""Yes/no values as they reach a task: a bool, or text rendered from a template, a form or an environment.

A templated ``probe="{{ params.probe }}"`` arrives as ``"True"``; a form may send ``"on"``; a connection extra
``"yes"``. Every yes/no argument goes through :func:`parse_flag`, so one spelling means the same everywhere,
and a value that is neither (a typo, a path) is refused with its name instead of silently read as no.
"""

from __future__ import annotations

from airflow_ingest.core.errors import ConfigError

TRUE_WORDS = frozenset({"true", "1", "yes", "y", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "off", "", "none", "null"})
"""``""``, ``"None"`` and ``"null"``: what an unset param renders to, read as no."""


def parse_flag(value: object, name: str = "flag") -> bool:
    """``value`` as a bool: a bool as it is, ``None`` as no, 0/1, or one of the words above in any case.

    Raises :class:`ConfigError` naming ``name`` for anything else.
    """
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ConfigError(
        name, value, f"use one of {', '.join(sorted(TRUE_WORDS))} or {', '.join(sorted(FALSE_WORDS - {''}))}"
    )
