"""Register a range of a plan's Encord JSON specs as upload jobs, one job per batch, and record the outcomes.

Each job id goes to ``jobs/batch-NNNNN.json`` before the task waits for anything, so an Airflow retry of
this task resumes the same job. The crash window left is the start request itself: the record then says
``starting`` (or ``unanswered``), and a retry starts again only when the spec has ``skip_duplicate_urls``
(Encord then skips whatever a ghost first job registered); without it the retry fails and names the record.
With ``deferrable=True`` each wait happens in the triggerer (:class:`EncordJobTrigger`), and the task comes
back to finish the batch and go on with the next; otherwise it waits in-process.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink, Context, ObjectStoragePath
from airflow.sdk.exceptions import AirflowFailException

from airflow_ingest.core.errors import PlatformAuthError, PlatformError
from airflow_ingest.core.outcomes import Outcome
from airflow_ingest.core.plan import BatchInfo, read_batch_index
from airflow_ingest.operators.batches import RegisterOperator, failing_task
from airflow_ingest.operators.links import IngestViewLink
from airflow_ingest.platforms.encord.answers import failed_outcomes
from airflow_ingest.platforms.encord.jobs import EncordDestination, job_record_path, parse_destination
from airflow_ingest.platforms.encord.target import EncordTarget
from airflow_ingest.platforms.encord.trigger import EncordJobTrigger

if TYPE_CHECKING:
    from airflow_ingest.platforms.encord.hook import EncordHook  # noqa: F401 (Encord's SDK: not at DAG parse time)


class EncordDestinationLink(BaseOperatorLink):
    """The folder or dataset in Encord's web app (``api.`` in the API domain becomes ``app.``)."""

    name = "Encord"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        destination = getattr(operator, "destination", None) or {}
        app = "https://app.encord.com"
        if destination.get("folder_uuid"):
            return f"{app}/storage/folders/{destination['folder_uuid']}"
        if destination.get("dataset_hash"):
            return f"{app}/datasets/view/{destination['dataset_hash']}"
        return app


class EncordRegisterOperator(RegisterOperator["EncordHook"]):
    """Start (or resume) the Encord upload job of each JSON spec in a range of a plan's batches, and wait for it.

    :param run_dir: the planned run folder. (templated)
    :param batches: ``[first, last]``: map over the plan task's return value. (templated)
    :param encord_conn_id: the ``encord`` connection. (templated)
    :param folder_uuid: storage folder to register into; give this or ``dataset_hash``. (templated)
    :param dataset_hash: dataset to register into. (templated)
    :param integration_id: the cloud integration Encord reads the bucket with. (templated)
    :param ignore_errors: let the job finish past per-file errors (they still come back per item).
    :param target: the Encord target (URL style, region...) to map spec URLs back to items; by default the one
        the plan recorded in ``plan.json``. (templated)
    :param deferrable: wait in the triggerer instead of a worker slot.
    :param poll_interval: seconds one status request may wait on the server.
    :param job_timeout: how long to wait for one job before failing the task (the job id stays recorded).
    :return: the counts of each outcome for the range.
    """

    platform_name = "encord"
    template_fields: Sequence[str] = (
        *RegisterOperator.template_fields,
        "encord_conn_id",
        "folder_uuid",
        "dataset_hash",
        "integration_id",
        "target",
    )
    operator_extra_links = (EncordDestinationLink(), IngestViewLink())
    ui_color = "#eae6fb"

    def __init__(
        self,
        *,
        encord_conn_id: str = "encord_default",
        folder_uuid: str | None = None,
        dataset_hash: str | None = None,
        integration_id: str,
        ignore_errors: bool = True,
        target: dict[str, Any] | None = None,
        deferrable: bool = True,
        poll_interval: float = 30.0,
        max_poll_failures: int = 5,
        job_timeout: timedelta = timedelta(hours=6),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.encord_conn_id = encord_conn_id
        self.folder_uuid = folder_uuid
        self.dataset_hash = dataset_hash
        self.integration_id = integration_id
        self.ignore_errors = ignore_errors
        self.target = dict(target or {})
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.max_poll_failures = max_poll_failures
        self.job_timeout = job_timeout

    @property
    def destination(self) -> dict[str, Any]:
        return {
            "folder_uuid": self.folder_uuid or None,
            "dataset_hash": self.dataset_hash or None,
            "integration_id": self.integration_id,
            "ignore_errors": self.ignore_errors,
        }

    @cached_property
    def parsed(self) -> tuple[EncordDestination, EncordTarget]:
        """The destination, and the target the plan wrote the specs for (recorded in plan.json) unless given."""
        with failing_task():
            target = self.platform().parse_target(self.target or self.plan.target)
            assert isinstance(target, EncordTarget)
            return parse_destination(self.destination), target

    def _spec(self, manifest: ObjectStoragePath) -> str:
        from airflow_ingest.platforms.encord.register import batch_spec

        with failing_task():
            return batch_spec(manifest)

    def register_batch(self, number: int, manifest: ObjectStoragePath, batch: BatchInfo) -> list[Outcome]:
        """Start or resume the batch's job; wait for it in the triggerer (``deferrable``) or here."""
        from airflow_ingest.platforms.encord.register import finish_batch, start_or_resume

        body = self._spec(manifest)
        destination, target = self.parsed
        index = read_batch_index(self.run, batch)
        self.log.info("Registering %s into Encord %s %s", manifest, destination.kind, destination.target_id)
        with failing_task():
            try:
                job_id = start_or_resume(self.hook, manifest, body, destination)
            except PlatformAuthError:
                raise
            except PlatformError as error:
                return failed_outcomes(index, str(error), retryable=error.retryable)
        if self.deferrable:
            self.defer(
                trigger=EncordJobTrigger(
                    encord_conn_id=self.encord_conn_id,
                    destination=destination.model_dump(mode="json"),
                    job_id=job_id,
                    poll_interval=self.poll_interval,
                    max_failures=self.max_poll_failures,
                ),
                method_name="execute_complete",
                timeout=self.job_timeout,
            )
        result = self.hook.wait(
            destination, job_id, timeout=self.job_timeout.total_seconds(), poll_seconds=int(self.poll_interval)
        )
        return finish_batch(result, job_id, index, body, target)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None, **_: Any) -> dict[str, int]:
        """Back from the triggerer: finish the batch it waited for, then go on with the rest of the range.

        The batch is the range's first without outcomes (they are written in order), so nothing has to
        travel through the deferral but the job's event.
        """
        number = self.pending()
        if number is None:
            return self.register_range()
        batch = self.plan.batches[number - 1]
        manifest = self.run / batch.path
        self.record(manifest, self._completed(manifest, batch, event or {}))
        return self.register_range()

    def _completed(self, manifest: ObjectStoragePath, batch: BatchInfo, event: dict[str, Any]) -> list[Outcome]:
        from airflow_ingest.platforms.encord.register import finish_batch

        index = read_batch_index(self.run, batch)
        job = str(event.get("job_id"))
        if event.get("status") == "error":
            self.log.error("Waiting for Encord job %s failed: %s", job, event.get("message"))
            if "refused the credentials" in str(event.get("message", "")):
                raise AirflowFailException(str(event.get("message")))
            reason = f"waiting for Encord job {job} failed: {event.get('message')}; a re-run resumes it"
            return failed_outcomes(index, reason, retryable=True)
        destination, target = self.parsed
        with failing_task():
            try:
                result = self.hook.poll(destination, job, timeout_seconds=0)
            except PlatformAuthError:
                raise
            except PlatformError as error:
                reason = f"reading Encord job {job}'s result failed: {error}"
                return failed_outcomes(index, reason, retryable=error.retryable)
        self.log.info("Encord job %s ended %s (record: %s)", job, result.status, job_record_path(manifest))
        return finish_batch(result, job, index, body=self._spec(manifest), target=target)
