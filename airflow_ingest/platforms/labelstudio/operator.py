"""Create a range of a plan's Label Studio task lists in a project, once each, and record one outcome per item.

The registration itself (look tasks up by marker, send what is missing) is the platform's sender
(:mod:`airflow_ingest.platforms.labelstudio.register`); this shell adds the connection and the project link.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_ingest.operators.batches import RegisterOperator, TargetLink
from airflow_ingest.operators.links import IngestViewLink

if TYPE_CHECKING:
    from airflow_ingest.platforms.labelstudio.hook import LabelStudioHook  # noqa: F401 (requests: not at parse time)


class LabelStudioProjectLink(TargetLink):
    """A button on the task that opens the Label Studio project's data manager."""

    name: ClassVar[str] = "Label Studio project"  # type: ignore[misc]
    attribute: ClassVar[str] = "project_url"


class LabelStudioRegisterOperator(RegisterOperator["LabelStudioHook"]):
    """Create the tasks of a range of a plan's batches in a Label Studio project, skipping those it holds.

    :param run_dir: the planned run folder. (templated)
    :param batches: ``[first, last]``: map over the plan task's return value. (templated)
    :param labelstudio_conn_id: the ``labelstudio`` connection. (templated)
    :param project_id: the project's id; empty takes the connection's ``extra.project_id``. (templated)
    :param max_attempts: attempts per request on 429, 5xx and timeouts (default: the connection's, else 6).
    :param wait_initial: first backoff step in seconds (default: the connection's, else 1).
    :param wait_max: longest wait between attempts and cap on Retry-After (default: the connection's, else 60).
    :return: the counts of each outcome for the range.
    """

    platform_name = "labelstudio"
    register_args = ("project_id",)
    template_fields: Sequence[str] = (*RegisterOperator.template_fields, "labelstudio_conn_id", "project_id")
    operator_extra_links = (LabelStudioProjectLink(), IngestViewLink())
    ui_color = "#fff3e0"

    def __init__(
        self, *, labelstudio_conn_id: str = "labelstudio_default", project_id: int | str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.labelstudio_conn_id = labelstudio_conn_id
        self.project_id = project_id
        self.project_url = ""

    def prepare(self) -> None:
        from airflow_ingest.platforms.labelstudio.register import project_of

        self.project_url = self.hook.project_url(project_of(self.project_id, self.hook)())
