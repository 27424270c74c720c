"""Create one RedBrick items list's tasks and record one outcome per item beside it, in ``outcomes/``.

Tasks RedBrick refuses are ``blocked`` with its reason, names already in the project are ``duplicate``,
and transport trouble that outlasts the hook's retries is ``failed`` (retryable), so the run's report
accounts for every item; refused credentials or an unknown organization or project fail the task, because
every other batch would fail the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator, BaseOperatorLink, Context, ObjectStoragePath
from airflow.sdk.exceptions import AirflowFailException

from airflow_ingest.core.errors import ConfigError, PlatformAuthError
from airflow_ingest.core.plan import read_batch_index
from airflow_ingest.core.redbrick_results import VALIDATION_BUDGET
from airflow_ingest.operators.batches import manifest_batch, record_outcomes

if TYPE_CHECKING:
    from airflow.sdk.types import TaskInstanceKey


class RedBrickProjectLink(BaseOperatorLink):
    """A button on the task that opens the RedBrick project the tasks were created in."""

    name: ClassVar[str] = "RedBrick project"  # type: ignore[misc]

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        return str(getattr(operator, "project_url", "") or "")


def batch_item_ids(manifest: Any) -> list[str] | None:
    """The plan's item ids for this manifest's batch, in order, from ``plan.json`` and ``items.jsonl`` beside it.

    None when the manifest does not sit in a plan's run folder (a hand-made items list): the hook then
    rebuilds each id from the task name.
    """
    found = manifest_batch(manifest)
    if found is None:
        return None
    run, _, batch = found
    return [str(line["item"]) for line in read_batch_index(run, batch)]


class RedBrickRegisterOperator(BaseOperator):
    """Create the tasks of one RedBrick items list (a batch manifest) in a project.

    :param manifest: path of a manifest written by :class:`PlanBatchesOperator` for ``redbrick``; map over
        the plan's ``manifests`` XCom to register every batch. (templated)
    :param redbrick_conn_id: the ``redbrick`` connection. (templated)
    :param project_id: the project's UUID; empty takes the connection's ``extra.project_id``. (templated)
    :param storage_id: the storage method the items paths refer to, as planned. (templated)
    :param validation_budget: validation calls allowed to find the bad tasks of a batch RedBrick refuses.
    :param max_attempts: attempts per request on 429, 5xx and timeouts (default: the connection's, else 6).
    :param wait_initial: first backoff step in seconds (default: the connection's, else 1).
    :param wait_max: longest wait between attempts and cap on Retry-After (default: the connection's, else 60).
    :return: the counts of each outcome for this batch.
    """

    template_fields: Sequence[str] = ("manifest", "redbrick_conn_id", "project_id", "storage_id")
    operator_extra_links = (RedBrickProjectLink(),)
    ui_color = "#fbe9e7"

    def __init__(
        self,
        *,
        manifest: str,
        storage_id: str,
        redbrick_conn_id: str = "redbrick_default",
        project_id: str | None = None,
        validation_budget: int = VALIDATION_BUDGET,
        max_attempts: int | None = None,
        wait_initial: float | None = None,
        wait_max: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.manifest = manifest
        self.redbrick_conn_id = redbrick_conn_id
        self.project_id = project_id
        self.storage_id = storage_id
        self.validation_budget = validation_budget
        self.max_attempts = max_attempts
        self.wait_initial = wait_initial
        self.wait_max = wait_max
        self.project_url = ""

    def execute(self, context: Context) -> dict[str, int]:
        manifest = ObjectStoragePath(self.manifest)
        body = manifest.read_text(encoding="utf-8")
        from airflow_ingest.hooks.redbrick import RedBrickHook, register_batch  # not at parse time: requests

        hook = RedBrickHook(
            self.redbrick_conn_id,
            max_attempts=self.max_attempts,
            wait_initial=self.wait_initial,
            wait_max=self.wait_max,
        )
        self.log.info("Registering %s", manifest)
        try:
            project = self.project_id or hook.default_project_id
            if project:
                self.project_url = hook.project_url(project)
            outcomes = register_batch(
                hook,
                body,
                self.project_id,
                self.storage_id,
                item_ids=batch_item_ids(manifest),
                validation_budget=self.validation_budget,
            )
        except (PlatformAuthError, ConfigError) as error:
            raise AirflowFailException(str(error)) from None
        return record_outcomes(manifest, outcomes, self.log)
