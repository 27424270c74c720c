"""Register a range of a plan's Darwin manifests and record one outcome per item in ``outcomes/``.

Transient trouble that outlasts the hook's retries, and requests V7 rejects as malformed, become ``failed``
outcomes (retryable or not) so the run's report accounts for them; refused credentials or an unknown team
or dataset fail the task, because every other batch would fail the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_ingest.operators.batches import RegisterOperator, TargetLink
from airflow_ingest.operators.links import IngestViewLink

if TYPE_CHECKING:
    from airflow_ingest.platforms.darwin.hook import DarwinHook  # noqa: F401 (requests: not at DAG parse time)


class DarwinDatasetLink(TargetLink):
    """A button on the task that opens the V7 dataset the items were registered in."""

    name: ClassVar[str] = "V7 dataset"  # type: ignore[misc]
    attribute: ClassVar[str] = "dataset_url"


class DarwinRegisterOperator(RegisterOperator["DarwinHook"]):
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

    platform_name = "darwin"
    register_args = ("readonly",)
    template_fields: Sequence[str] = (*RegisterOperator.template_fields, "darwin_conn_id")
    operator_extra_links = (DarwinDatasetLink(), IngestViewLink())
    ui_color = "#e6f7ee"

    def __init__(self, *, darwin_conn_id: str = "darwin_default", readonly: bool | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.darwin_conn_id = darwin_conn_id
        self.readonly = readonly
        self.dataset_url = ""

    def prepare(self) -> None:
        slug = self.plan.target.get("dataset_slug")
        if slug:
            self.dataset_url = self.hook.dataset_url(str(slug))
