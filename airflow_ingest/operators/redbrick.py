"""Create a range of a plan's RedBrick items lists as tasks and record one outcome per item in ``outcomes/``.

Tasks RedBrick refuses are ``blocked`` with its reason, names already in the project are ``duplicate``,
and transport trouble that outlasts the hook's retries is ``failed`` (retryable), so the run's report
accounts for every item; refused credentials or an unknown organization or project fail the task, because
every other batch would fail the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import ObjectStoragePath
from airflow.sdk.exceptions import AirflowFailException

from airflow_ingest.core.errors import ConfigError, PlatformAuthError
from airflow_ingest.core.outcomes import Outcome
from airflow_ingest.core.plan import BatchInfo, read_batch_index
from airflow_ingest.core.redbrick_results import VALIDATION_BUDGET
from airflow_ingest.operators.batches import BatchRegisterOperator, TargetLink
from airflow_ingest.operators.links import IngestViewLink

if TYPE_CHECKING:
    from airflow_ingest.hooks.redbrick import RedBrickHook


class RedBrickProjectLink(TargetLink):
    """A button on the task that opens the RedBrick project the tasks were created in."""

    name: ClassVar[str] = "RedBrick project"  # type: ignore[misc]
    attribute: ClassVar[str] = "project_url"


class RedBrickRegisterOperator(BatchRegisterOperator):
    """Create the tasks of a range of a plan's RedBrick items lists in a project, one call per batch.

    :param run_dir: the planned run folder. (templated)
    :param batches: ``[first, last]``: map over the plan task's return value. (templated)
    :param redbrick_conn_id: the ``redbrick`` connection. (templated)
    :param project_id: the project's UUID; empty takes the connection's ``extra.project_id``. (templated)
    :param storage_id: the storage method the items paths refer to; by default the one the plan's target
        names (the items lists were written for it). (templated)
    :param validation_budget: validation calls allowed to find the bad tasks of a batch RedBrick refuses.
    :param max_attempts: attempts per request on 429, 5xx and timeouts (default: the connection's, else 6).
    :param wait_initial: first backoff step in seconds (default: the connection's, else 1).
    :param wait_max: longest wait between attempts and cap on Retry-After (default: the connection's, else 60).
    :return: the counts of each outcome for the range.
    """

    template_fields: Sequence[str] = (
        *BatchRegisterOperator.template_fields,
        "redbrick_conn_id",
        "project_id",
        "storage_id",
    )
    operator_extra_links = (RedBrickProjectLink(), IngestViewLink())
    ui_color = "#fbe9e7"

    def __init__(
        self,
        *,
        storage_id: str | None = None,
        redbrick_conn_id: str = "redbrick_default",
        project_id: str | None = None,
        validation_budget: int = VALIDATION_BUDGET,
        max_attempts: int | None = None,
        wait_initial: float | None = None,
        wait_max: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.redbrick_conn_id = redbrick_conn_id
        self.project_id = project_id
        self.storage_id = storage_id
        self.validation_budget = validation_budget
        self.max_attempts = max_attempts
        self.wait_initial = wait_initial
        self.wait_max = wait_max
        self.project_url = ""

    @cached_property
    def hook(self) -> RedBrickHook:
        from airflow_ingest.hooks.redbrick import RedBrickHook  # not at parse time: requests

        return RedBrickHook(
            self.redbrick_conn_id,
            max_attempts=self.max_attempts,
            wait_initial=self.wait_initial,
            wait_max=self.wait_max,
        )

    def register_batch(self, number: int, manifest: ObjectStoragePath, batch: BatchInfo) -> list[Outcome]:
        from airflow_ingest.hooks.redbrick import register_batch

        item_ids = [str(line["item"]) for line in read_batch_index(self.run, batch)]
        try:
            project = self.project_id or self.hook.default_project_id
            if project and not self.project_url:
                self.project_url = self.hook.project_url(project)
            return register_batch(
                self.hook,
                manifest.read_text(encoding="utf-8"),
                self.project_id,
                self.storage_id or str(self.plan.target.get("storage_id") or ""),
                item_ids=item_ids,
                validation_budget=self.validation_budget,
            )
        except (PlatformAuthError, ConfigError) as error:
            raise AirflowFailException(str(error)) from None
