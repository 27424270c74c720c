"""Register a range of a plan's Darwin manifests and record one outcome per item in ``outcomes/``.

Transient trouble that outlasts the hook's retries, and requests V7 rejects as malformed, become ``failed``
outcomes (retryable or not) so the run's report accounts for them; refused credentials or an unknown team
or dataset fail the task, because every other batch would fail the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import ObjectStoragePath
from airflow.sdk.exceptions import AirflowFailException

from airflow_ingest.core.errors import PlatformAuthError
from airflow_ingest.core.outcomes import Outcome
from airflow_ingest.core.plan import BatchInfo
from airflow_ingest.operators.batches import BatchRegisterOperator, TargetLink
from airflow_ingest.operators.links import IngestViewLink

if TYPE_CHECKING:
    from airflow_ingest.hooks.darwin import DarwinHook


class DarwinDatasetLink(TargetLink):
    """A button on the task that opens the V7 dataset the items were registered in."""

    name: ClassVar[str] = "V7 dataset"  # type: ignore[misc]
    attribute: ClassVar[str] = "dataset_url"


class DarwinRegisterOperator(BatchRegisterOperator):
    """POST a range of a plan's ``register_existing`` manifests to V7 Darwin, one request per batch.

    :param run_dir: the planned run folder. (templated)
    :param batches: ``[first, last]``: map over the plan task's return value. (templated)
    :param darwin_conn_id: the ``darwin`` connection. (templated)
    :param readonly: use ``register_existing_readonly`` (read-only storage); by default what the plan's target
        says, since the manifests were written for one endpoint or the other.
    :param max_attempts: attempts per request on 429, 5xx and timeouts (default: the connection's, else 8).
    :param wait_initial: first backoff step in seconds (default: the connection's, else 2).
    :param wait_max: longest wait between attempts and cap on Retry-After (default: the connection's, else 120).
    :return: the counts of each outcome for the range.
    """

    template_fields: Sequence[str] = (*BatchRegisterOperator.template_fields, "darwin_conn_id")
    operator_extra_links = (DarwinDatasetLink(), IngestViewLink())
    ui_color = "#e6f7ee"

    def __init__(
        self,
        *,
        darwin_conn_id: str = "darwin_default",
        readonly: bool | None = None,
        max_attempts: int | None = None,
        wait_initial: float | None = None,
        wait_max: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.darwin_conn_id = darwin_conn_id
        self.readonly = readonly
        self.max_attempts = max_attempts
        self.wait_initial = wait_initial
        self.wait_max = wait_max
        self.dataset_url = ""

    @cached_property
    def hook(self) -> DarwinHook:
        from airflow_ingest.hooks.darwin import DarwinHook  # not at parse time: requests

        return DarwinHook(
            self.darwin_conn_id,
            max_attempts=self.max_attempts,
            wait_initial=self.wait_initial,
            wait_max=self.wait_max,
        )

    def register_batch(self, number: int, manifest: ObjectStoragePath, batch: BatchInfo) -> list[Outcome]:
        from airflow_ingest.hooks.darwin import register_batch

        slug = self.plan.target.get("dataset_slug")
        try:
            if slug and not self.dataset_url:
                self.dataset_url = self.hook.dataset_url(str(slug))
            readonly = self.readonly if self.readonly is not None else bool(self.plan.target.get("readonly"))
            return register_batch(self.hook, manifest.read_text(encoding="utf-8"), readonly=readonly)
        except PlatformAuthError as error:
            raise AirflowFailException(str(error)) from None
