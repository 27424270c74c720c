"""Wait for an Encord upload job in the triggerer, without holding a worker slot.

The SDK is synchronous, so each status request (a server-side long poll of ``poll_interval`` seconds) runs
in a thread. The hook already retries a failing request a few times; on top of that the trigger tolerates
``max_failures`` consecutive failed polls before it gives up with an ``error`` event. The event is small
(job id, status, counters): the operator fetches the full result once when it resumes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_ingest.core.errors import PlatformAuthError, PlatformError
from airflow_ingest.platforms.encord.jobs import parse_destination


class EncordJobTrigger(BaseTrigger):
    """Fires once the job leaves PENDING (``status`` DONE, ERROR or CANCELLED), or ``error`` if polling fails.

    :param encord_conn_id: the ``encord`` connection.
    :param destination: the job's destination as a dict (``folder_uuid`` or ``dataset_hash``, ...).
    :param job_id: the upload job to wait for.
    :param poll_interval: seconds one status request may wait on the server (and the pause after a failure).
    :param max_failures: consecutive failed polls tolerated before giving up.
    """

    def __init__(
        self,
        *,
        encord_conn_id: str,
        destination: dict[str, Any],
        job_id: str,
        poll_interval: float = 30.0,
        max_failures: int = 5,
    ) -> None:
        super().__init__()
        self.encord_conn_id = encord_conn_id
        self.destination: dict[str, Any] = {
            key: str(value) if value is not None and key != "ignore_errors" else value
            for key, value in destination.items()
        }
        self.job_id = job_id
        self.poll_interval = float(poll_interval)
        self.max_failures = int(max_failures)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "airflow_ingest.platforms.encord.trigger.EncordJobTrigger",
            {
                "encord_conn_id": self.encord_conn_id,
                "destination": self.destination,
                "job_id": self.job_id,
                "poll_interval": self.poll_interval,
                "max_failures": self.max_failures,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_ingest.platforms.encord.hook import EncordHook

        destination = parse_destination({k: v for k, v in self.destination.items() if v is not None})
        try:
            connection = await EncordHook.aget_connection(self.encord_conn_id)
        except Exception as error:
            yield self._error(f"cannot read connection {self.encord_conn_id!r}: {type(error).__name__}")
            return
        hook = EncordHook(self.encord_conn_id, connection=connection)
        failures = 0
        while True:
            try:
                result = await asyncio.to_thread(hook.poll, destination, self.job_id, int(self.poll_interval))
            except PlatformAuthError as error:
                yield self._error(str(error))
                return
            except PlatformError as error:
                failures += 1
                if not error.retryable or failures > self.max_failures:
                    yield self._error(f"gave up after {failures} failed polls: {error}")
                    return
                self.log.warning(
                    "Polling Encord job %s failed (%d/%d): %s", self.job_id, failures, self.max_failures, error
                )
                await asyncio.sleep(self.poll_interval)
                continue
            failures = 0
            if result.finished:
                yield TriggerEvent(
                    {"status": result.status, "job_id": self.job_id, "counts": result.counts.model_dump()}
                )
                return
            self.log.info("Encord job %s pending: %s", self.job_id, result.counts.model_dump())
            if self.poll_interval < 1:
                await asyncio.sleep(1.0)

    def _error(self, message: str) -> TriggerEvent:
        return TriggerEvent({"status": "error", "job_id": self.job_id, "message": message[:1000]})
