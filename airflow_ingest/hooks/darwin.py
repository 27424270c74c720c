"""Kept so code importing ``airflow_ingest.hooks.darwin`` goes on working: the hook is in the platform's package."""

from __future__ import annotations

from airflow_ingest.platforms.darwin.hook import DarwinHook
from airflow_ingest.platforms.darwin.register import register_batch

__all__ = ["DarwinHook", "register_batch"]
