"""Quill's hook: the connection's ``extra.inbox`` is the file its registrations are appended to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from airflow_ingest.core.errors import ConnectionConfigError
from airflow_ingest.hooks.base import PlatformHook
from airflow_ingest.hooks.retries import RetryPolicy


class QuillHook(PlatformHook):
    conn_name_attr = "quill_conn_id"
    default_conn_name = "quill_default"
    conn_type = "quill"
    hook_name = "Quill"
    default_policy = RetryPolicy(max_attempts=2, wait_initial=0, wait_max=0)

    def __init__(self, quill_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(quill_conn_id, **kwargs)
        self.quill_conn_id = quill_conn_id

    @property
    def inbox(self) -> Path:
        inbox = self.extra.get("inbox")
        if not inbox:
            raise ConnectionConfigError(self.quill_conn_id, "extra.inbox", "is missing: name the inbox file")
        return Path(inbox)

    def read_connection(self) -> None:
        super().read_connection()
        _ = self.inbox

    def held(self) -> set[str]:
        if not self.inbox.exists():
            return set()
        return {json.loads(line)["id"] for line in self.inbox.read_text().splitlines()}

    def put(self, entries: list[dict[str, Any]]) -> None:
        with self.inbox.open("a") as out:
            out.writelines(json.dumps(entry) + "\n" for entry in entries)
