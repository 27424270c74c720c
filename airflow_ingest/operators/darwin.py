"""Register one Darwin manifest and record one outcome per item beside it, in ``outcomes/``.

Transient trouble that outlasts the hook's retries, and requests V7 rejects as malformed, become ``failed``
outcomes (retryable or not) so the run's report accounts for them; refused credentials or an unknown team
or dataset fail the task, because every other batch would fail the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context, ObjectStoragePath
from airflow.sdk.exceptions import AirflowFailException

from airflow_ingest.core.errors import PlatformAuthError
from airflow_ingest.operators.batches import record_outcomes


class DarwinRegisterOperator(BaseOperator):
    """POST one ``register_existing`` manifest to V7 Darwin.

    :param manifest: path of a manifest written by :class:`PlanBatchesOperator`; map over the plan's
        ``manifests`` XCom to register every batch. (templated)
    :param darwin_conn_id: the ``darwin`` connection. (templated)
    :param readonly: use ``register_existing_readonly`` (read-only storage).
    :param max_attempts: attempts per request on 429, 5xx and timeouts (default: the connection's, else 8).
    :param wait_initial: first backoff step in seconds (default: the connection's, else 2).
    :param wait_max: longest wait between attempts and cap on Retry-After (default: the connection's, else 120).
    :return: the counts of each outcome for this batch.
    """

    template_fields: Sequence[str] = ("manifest", "darwin_conn_id")
    ui_color = "#e6f7ee"

    def __init__(
        self,
        *,
        manifest: str,
        darwin_conn_id: str = "darwin_default",
        readonly: bool = False,
        max_attempts: int | None = None,
        wait_initial: float | None = None,
        wait_max: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.manifest = manifest
        self.darwin_conn_id = darwin_conn_id
        self.readonly = readonly
        self.max_attempts = max_attempts
        self.wait_initial = wait_initial
        self.wait_max = wait_max

    def execute(self, context: Context) -> dict[str, int]:
        manifest = ObjectStoragePath(self.manifest)
        body = manifest.read_text(encoding="utf-8")
        from airflow_ingest.hooks.darwin import DarwinHook, register_batch  # not at parse time: requests

        hook = DarwinHook(
            self.darwin_conn_id,
            max_attempts=self.max_attempts,
            wait_initial=self.wait_initial,
            wait_max=self.wait_max,
        )
        self.log.info("Registering %s", manifest)
        try:
            outcomes = register_batch(hook, body, readonly=self.readonly)
        except PlatformAuthError as error:
            raise AirflowFailException(str(error)) from None
        return record_outcomes(manifest, outcomes, self.log)
