"""An Encord batch's registration in-process: start (or resume) the batch's upload job and wait for it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from airflow_ingest.core.errors import ConfigError, PlatformAuthError, PlatformError
from airflow_ingest.core.outcomes import Outcome
from airflow_ingest.core.plan import Plan, read_batch_index
from airflow_ingest.platforms.base import SendContext, Sender
from airflow_ingest.platforms.encord.answers import JobResult, encord_outcomes, failed_outcomes
from airflow_ingest.platforms.encord.hook import EncordHook, StartUnanswered
from airflow_ingest.platforms.encord.jobs import (
    EncordDestination,
    JobRecord,
    destination_key,
    job_record_path,
    parse_destination,
    read_job_record,
    spec_fingerprint,
    write_job_record,
)
from airflow_ingest.platforms.encord.target import EncordTarget


def sender(hook: EncordHook, target: EncordTarget, register: Mapping[str, Any]) -> Sender:
    """``register`` holds the destination: ``folder_uuid`` or ``dataset_hash``, ``integration_id``,
    ``ignore_errors``."""
    if target.format == "csv":
        raise ConfigError("format", "csv", "Encord's SDK registers JSON specs; use --format json to sync")
    destination = parse_destination(
        {key: register.get(key) for key in ("folder_uuid", "dataset_hash", "integration_id")}
        | {"ignore_errors": register.get("ignore_errors", True)}
    )

    def send(ctx: SendContext) -> list[Outcome]:
        return register_batch(hook, ctx.run, ctx.plan, ctx.number, destination, target)

    return send


def start_or_resume(hook: EncordHook, manifest: Any, body: str, destination: EncordDestination) -> str:
    """The id of this manifest's job: the recorded one if a previous attempt started it, else a new one.

    The record is written before the start request (``starting``) and again with the id (``started``), so
    a task killed between the two leaves proof that a job may exist. Without ``skip_duplicate_urls`` a
    second start could register the same files twice, so then this refuses and names the record to check.
    """
    path = job_record_path(manifest)
    key, fingerprint = destination_key(destination), spec_fingerprint(body)
    spec = json.loads(body)
    record = read_job_record(path)
    if record is not None and record.destination == key and record.spec == fingerprint:
        if record.state == "started" and record.job_id:
            hook.log.info("Resuming Encord job %s recorded in %s", record.job_id, path)
            return record.job_id
        if not spec.get("skip_duplicate_urls"):
            raise PlatformError(
                f"a previous attempt may have started a job for this batch ({record.state} at {record.at}) and "
                f"the spec has no skip_duplicate_urls, so a second job could register files twice: check the "
                f"destination in Encord, then delete {path} to start again"
            )
        hook.log.warning(
            "A previous attempt left the job start %s; starting again (skip_duplicate_urls skips what it added)",
            record.state,
        )
    write_job_record(path, JobRecord(state="starting", destination=key, spec=fingerprint))
    try:
        job_id = hook.start_job(destination, spec)
    except StartUnanswered as error:
        write_job_record(path, JobRecord(state="unanswered", destination=key, spec=fingerprint, note=str(error)))
        raise
    except PlatformError:
        path.unlink()  # refused outright: no job exists, nothing to resume
        raise
    write_job_record(path, JobRecord(state="started", destination=key, spec=fingerprint, job_id=job_id))
    hook.log.info("Started Encord job %s for %s", job_id, manifest)
    return job_id


def batch_spec(manifest: Any) -> str:
    """A manifest's text, refusing CSV: the SDK's upload jobs take JSON specs only."""
    if not str(manifest.name).endswith(".json"):
        raise ConfigError(
            "manifest", str(manifest), "Encord upload jobs take JSON specs; plan with format=json (CSV is for the UI)"
        )
    return str(manifest.read_text(encoding="utf-8"))


def finish_batch(
    result: JobResult, job_id: str, index: list[dict[str, Any]], body: str, target: EncordTarget
) -> list[Outcome]:
    """Outcomes from a job's final (or last known) state."""
    if not result.finished:
        return failed_outcomes(
            index, f"Encord job {job_id} was still PENDING; a re-run resumes it (job id recorded)", retryable=True
        )
    return encord_outcomes(result, index, json.loads(body), target.linker)


def register_batch(
    hook: EncordHook,
    run_dir: Any,
    plan: Plan,
    number: int,
    destination: EncordDestination,
    target: EncordTarget,
    *,
    timeout: float = 3 * 3600,
    poll_seconds: int | None = None,
) -> list[Outcome]:
    """Register batch ``number`` of ``plan`` in-process (the ``sync`` CLI): start or resume, wait, map.

    Takes the run folder and plan rather than a manifest body because outcomes map back to items through
    the plan's index (``items.jsonl``), and the job record lives beside the manifest. Refused credentials or
    an unknown destination raise :class:`PlatformAuthError` (every batch would fail alike); everything else
    becomes one outcome per item.
    """
    batch = plan.batches[number - 1]
    manifest = run_dir / batch.path
    body = batch_spec(manifest)
    index = read_batch_index(run_dir, batch)
    try:
        job_id = start_or_resume(hook, manifest, body, destination)
        result = hook.wait(destination, job_id, timeout=timeout, poll_seconds=poll_seconds)
    except PlatformAuthError:
        raise
    except PlatformError as error:
        hook.log.error("Batch %d (%d items) failed: %s", number, len(index), error)
        return failed_outcomes(index, str(error), retryable=error.retryable)
    hook.log.info("Job %s for batch %d ended %s: %s", job_id, number, result.status, result.counts.model_dump())
    return finish_batch(result, job_id, index, body, target)
