"""Create a range of a plan's RedBrick items lists as tasks and record one outcome per item in ``outcomes/``.

Tasks RedBrick refuses are ``blocked`` with its reason, names already in the project are ``duplicate``,
and transport trouble that outlasts the hook's retries is ``failed`` (retryable), so the run's report
accounts for every item; refused credentials or an unknown organization or project fail the task, because
every other batch would fail the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_ingest.operators.batches import RegisterOperator, TargetLink
from airflow_ingest.operators.links import IngestViewLink
from airflow_ingest.platforms.redbrick.answers import VALIDATION_BUDGET

if TYPE_CHECKING:
    from airflow_ingest.platforms.redbrick.hook import RedBrickHook  # noqa: F401 (requests: not at DAG parse time)


class RedBrickProjectLink(TargetLink):
    """A button on the task that opens the RedBrick project the tasks were created in."""

    name: ClassVar[str] = "RedBrick project"  # type: ignore[misc]
    attribute: ClassVar[str] = "project_url"


class RedBrickRegisterOperator(RegisterOperator["RedBrickHook"]):
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

    platform_name = "redbrick"
    register_args = ("project_id", "storage_id", "validation_budget")
    template_fields: Sequence[str] = (*RegisterOperator.template_fields, "redbrick_conn_id", "project_id", "storage_id")
    operator_extra_links = (RedBrickProjectLink(), IngestViewLink())
    ui_color = "#fbe9e7"

    def __init__(
        self,
        *,
        storage_id: str | None = None,
        redbrick_conn_id: str = "redbrick_default",
        project_id: str | None = None,
        validation_budget: int = VALIDATION_BUDGET,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.redbrick_conn_id = redbrick_conn_id
        self.project_id = project_id
        self.storage_id = storage_id
        self.validation_budget = validation_budget
        self.project_url = ""

    def prepare(self) -> None:
        project = self.project_id or self.hook.default_project_id
        if project:
            self.project_url = self.hook.project_url(project)
