"""Quill's register operator: the generic one, declared."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_ingest.operators.batches import RegisterOperator
from tests.quill.hook import QuillHook


class QuillRegisterOperator(RegisterOperator[QuillHook]):
    platform_name = "quill"
    register_args = ("drawer",)
    template_fields: Sequence[str] = (*RegisterOperator.template_fields, "quill_conn_id", "drawer")

    def __init__(self, *, quill_conn_id: str = "quill_default", drawer: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.quill_conn_id = quill_conn_id
        self.drawer = drawer
