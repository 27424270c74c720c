"""Kept so code importing ``airflow_ingest.hooks.redbrick`` goes on working: the hook is in the platform's
package."""

from __future__ import annotations

from airflow_ingest.platforms.redbrick.hook import RedBrickHook
from airflow_ingest.platforms.redbrick.register import register_batch

__all__ = ["RedBrickHook", "register_batch"]
