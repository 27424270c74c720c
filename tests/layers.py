"""The layer order of ``airflow_ingest`` (README, development map): imports and calls only point down.

One table for the two readers of it: ``tests/test_layers.py`` (every import points down) and
``bench/trace_sync.py`` (how often a ``sync`` goes back up while it runs).
"""

from __future__ import annotations

LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("storage",),
    ("media",),
    ("hooks",),
    ("pipeline",),
    ("platforms",),
    ("operators", "triggers", "cli"),
    ("task_groups", "plugins", "get_provider_info", "__init__"),
)
"""Bottom first. ``cli`` sits beside ``operators``: a shell over ``pipeline`` and ``platforms``."""

_RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}

PURE_PLATFORM_MODULES = ("documents", "answers", "target")
"""A platform package's pure modules (``platforms/<name>/target.py`` ...): they import only core, and rank with it."""

SHELL_PLATFORM_MODULES = ("operator", "trigger")
"""A platform package's Airflow shells (``platforms/<name>/operator.py``): they rank with ``operators/``."""


def layer_of(module: str) -> str:
    """``airflow_ingest.hooks.base`` -> ``hooks``; ``airflow_ingest`` -> ``__init__``."""
    parts = module.split(".")
    if parts[0] != "airflow_ingest":
        raise ValueError(f"{module} is not in airflow_ingest")
    return parts[1] if len(parts) > 1 else "__init__"


def rank(module: str) -> int:
    """The layer's height: 0 for ``core``; an unknown top-level name ranks highest (treated as a shell).

    In ``platforms/<name>/`` the pure modules rank with ``core`` and the operator and trigger with ``operators``.
    """
    parts = module.split(".")
    if len(parts) == 4 and parts[1] == "platforms":
        if parts[3] in PURE_PLATFORM_MODULES:
            return _RANK["core"]
        if parts[3] in SHELL_PLATFORM_MODULES:
            return _RANK["operators"]
    return _RANK.get(layer_of(module), len(LAYERS))
