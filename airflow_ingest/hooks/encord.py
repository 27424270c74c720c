"""Kept so code importing ``airflow_ingest.hooks.encord`` goes on working: the hook is in the platform's package."""

from __future__ import annotations

from airflow_ingest.platforms.encord.hook import EncordHook
from airflow_ingest.platforms.encord.register import register_batch

__all__ = ["EncordHook", "register_batch"]
