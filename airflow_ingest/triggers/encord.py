"""Kept so triggers stored under the classpath ``airflow_ingest.triggers.encord.EncordJobTrigger`` (by a task
deferred before an upgrade) still load: the trigger is in the Encord package now."""

from __future__ import annotations

from airflow_ingest.platforms.encord.trigger import EncordJobTrigger

__all__ = ["EncordJobTrigger"]
