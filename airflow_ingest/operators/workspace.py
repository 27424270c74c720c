"""Where a run keeps its artifacts: ``{workspace}/{dag_id}/{run_id}/`` on any ``ObjectStoragePath``.

Tasks hand each other paths under this folder through XCom, never the data itself. The embedded default is
a local folder under ``$AIRFLOW_HOME``; with several workers, point ``workspace`` at object storage.
"""

from __future__ import annotations

import os

from airflow.sdk import ObjectStoragePath

from airflow_ingest.core.files import safe_segment

__all__ = ["default_workspace", "run_dir", "safe_segment"]


def default_workspace() -> str:
    """``[airflow_ingest] workspace`` when set, else ``$AIRFLOW_HOME/ingest-workspace``."""
    from airflow.sdk import conf

    configured = conf.get("airflow_ingest", "workspace", fallback="")
    if configured:
        return str(configured)
    home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
    return f"file://{os.path.abspath(home)}/ingest-workspace"


def run_dir(workspace: str | None, dag_id: str, run_id: str, group: str | None = None) -> ObjectStoragePath:
    """``{workspace}/{dag_id}/{run_id}``, and a folder per task group so two ingests in one run never share files."""
    base = ObjectStoragePath(workspace or default_workspace()) / safe_segment(dag_id) / safe_segment(run_id)
    return base / safe_segment(group) if group else base
