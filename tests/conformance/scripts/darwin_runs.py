"""One registration run as the darwin_*.py scripts describe it, through darwin-py's own methods (its venv)."""

from __future__ import annotations

from typing import Any


def register(dataset: Any, store: Any, run: dict[str, Any]) -> dict[str, list[str]]:
    """``RemoteDatasetV2.register`` with the run's arguments, or ``register_locally_processed`` for ``local_files``."""
    if "local_files" in run:  # read-only: darwin-py extracts HLS and frames, uploads them, registers
        result: dict[str, list[str]] = dataset.register_locally_processed(
            store, run["local_files"], path=run.get("path", "/"), fps=run.get("fps", 0.0)
        )
        return result
    result = dataset.register(
        store,
        run["storage_keys"],
        fps=run.get("fps"),
        multi_planar_view=run.get("multi_planar_view", False),
        preserve_folders=run.get("preserve_folders", False),
        multi_slotted=run.get("multi_slotted", False),
    )
    return result
