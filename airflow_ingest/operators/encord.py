"""Register one Encord JSON spec as an upload job and record one outcome per item beside it, in ``outcomes/``.

The job id goes to ``jobs/batch-NNNNN.json`` before the task waits for anything, so an Airflow retry of
this task resumes the same job. The crash window left is the start request itself: the record then says
``starting`` (or ``unanswered``), and a retry starts again only when the spec has ``skip_duplicate_urls``
(Encord then skips whatever a ghost first job registered); without it the retry fails and names the record.
With ``deferrable=True`` the wait happens in the triggerer (:class:`EncordJobTrigger`); otherwise in-process.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseOperator, BaseOperatorLink, Context, ObjectStoragePath
from airflow.sdk.exceptions import AirflowFailException

from airflow_ingest.core.encord import EncordTarget
from airflow_ingest.core.encord_jobs import EncordDestination, failed_outcomes, job_record_path, parse_destination
from airflow_ingest.core.errors import ConfigError, PlatformAuthError, PlatformError
from airflow_ingest.core.outcomes import Outcome
from airflow_ingest.core.plan import BatchInfo, Plan, read_batch_index
from airflow_ingest.hooks.encord import EncordHook, batch_spec, finish_batch, start_or_resume
from airflow_ingest.operators.batches import manifest_batch, record_outcomes
from airflow_ingest.triggers.encord import EncordJobTrigger


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


class EncordRegisterOperator(BaseOperator):
    """Start (or resume) the Encord upload job of one JSON spec and wait for it.

    :param manifest: path of a JSON spec written by :class:`PlanBatchesOperator`; map over the plan's
        ``manifests`` XCom to register every batch. (templated)
    :param encord_conn_id: the ``encord`` connection. (templated)
    :param folder_uuid: storage folder to register into; give this or ``dataset_hash``. (templated)
    :param dataset_hash: dataset to register into. (templated)
    :param integration_id: the cloud integration Encord reads the bucket with. (templated)
    :param ignore_errors: let the job finish past per-file errors (they still come back per item).
    :param target: the Encord target (URL style, region...) to map spec URLs back to items; by default the one
        the plan recorded in ``plan.json``. (templated)
    :param deferrable: wait in the triggerer instead of a worker slot.
    :param poll_interval: seconds one status request may wait on the server.
    :param job_timeout: how long to wait for the job before failing the task (the job id stays recorded).
    :return: the counts of each outcome for this batch.
    """

    template_fields: Sequence[str] = (
        "manifest",
        "encord_conn_id",
        "folder_uuid",
        "dataset_hash",
        "integration_id",
        "target",
    )
    operator_extra_links = (EncordDestinationLink(),)
    ui_color = "#eae6fb"

    def __init__(
        self,
        *,
        manifest: str,
        encord_conn_id: str = EncordHook.default_conn_name,
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
        self.manifest = manifest
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

    def _parsed(self) -> tuple[EncordDestination, EncordTarget]:
        """The destination, and the target the plan wrote the spec for (recorded in plan.json) unless given."""
        try:
            target = self.target or self._planned(ObjectStoragePath(self.manifest))[1].target
            return parse_destination(self.destination), EncordTarget.model_validate(target)
        except ConfigError as error:
            raise AirflowFailException(str(error)) from None
        except ValueError as error:
            raise AirflowFailException(f"target={self.target!r} is invalid: {error}") from None

    def _hook(self) -> EncordHook:
        return EncordHook(self.encord_conn_id)

    @staticmethod
    def _planned(manifest: ObjectStoragePath) -> tuple[Any, Plan, BatchInfo]:
        found = manifest_batch(manifest)
        if found is None:
            raise AirflowFailException(f"manifest={str(manifest)!r} is not in a plan's run folder: plan it first")
        return found

    def _index(self, manifest: ObjectStoragePath) -> list[dict[str, Any]]:
        """This batch's lines of the run's ``items.jsonl`` (the plan beside ``manifests/``)."""
        run, _, batch = self._planned(manifest)
        return read_batch_index(run, batch)

    def execute(self, context: Context) -> dict[str, int] | None:
        manifest = ObjectStoragePath(self.manifest)
        try:
            body = batch_spec(manifest)
        except ConfigError as error:
            raise AirflowFailException(str(error)) from None
        destination, _ = self._parsed()
        index = self._index(manifest)
        hook = self._hook()
        self.log.info("Registering %s into Encord %s %s", manifest, destination.kind, destination.target_id)
        try:
            job_id = start_or_resume(hook, manifest, body, destination)
        except PlatformAuthError as error:
            raise AirflowFailException(str(error)) from None
        except PlatformError as error:
            return self._finish(manifest, failed_outcomes(index, str(error), retryable=error.retryable))
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
                kwargs={"job_id": job_id},
                timeout=self.job_timeout,
            )
        result = hook.wait(
            destination, job_id, timeout=self.job_timeout.total_seconds(), poll_seconds=int(self.poll_interval)
        )
        return self._finish(manifest, finish_batch(result, job_id, index, body, self._parsed()[1]))

    def execute_complete(
        self, context: Context, event: dict[str, Any] | None = None, job_id: str | None = None
    ) -> dict[str, int]:
        """Back from the triggerer: fetch the job's full result once, map it, write the outcomes."""
        manifest = ObjectStoragePath(self.manifest)
        body = batch_spec(manifest)
        destination, target = self._parsed()
        index = self._index(manifest)
        event = event or {}
        job = str(event.get("job_id") or job_id)
        if event.get("status") == "error":
            self.log.error("Waiting for Encord job %s failed: %s", job, event.get("message"))
            if "refused the credentials" in str(event.get("message", "")):
                raise AirflowFailException(str(event.get("message")))
            reason = f"waiting for Encord job {job} failed: {event.get('message')}; a re-run resumes it"
            return self._finish(manifest, failed_outcomes(index, reason, retryable=True))
        hook = self._hook()
        try:
            result = hook.poll(destination, job, timeout_seconds=0)
        except PlatformAuthError as error:
            raise AirflowFailException(str(error)) from None
        except PlatformError as error:
            reason = f"reading Encord job {job}'s result failed: {error}"
            return self._finish(manifest, failed_outcomes(index, reason, retryable=error.retryable))
        self.log.info("Encord job %s ended %s (record: %s)", job, result.status, job_record_path(manifest))
        return self._finish(manifest, finish_batch(result, job, index, body, target))

    def _finish(self, manifest: ObjectStoragePath, outcomes: list[Outcome]) -> dict[str, int]:
        return record_outcomes(manifest, outcomes, self.log)
