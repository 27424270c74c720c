"""Encord upload jobs, pure: where a spec goes, and the record that lets a retried task resume the job instead
of starting a second one.

The job id is recorded beside the manifest (``jobs/batch-NNNNN.json``) before anything waits on it (see
:class:`JobRecord`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Literal
from uuid import UUID

from pydantic import Field, ValidationError, model_validator

from airflow_ingest.core.errors import ConfigError, IngestError, validation_message
from airflow_ingest.core.files import write_text_whole
from airflow_ingest.platforms.encord.target import StrictModel


class EncordDestination(StrictModel):
    """Where a batch's spec is registered: a storage folder (Files) or a dataset, never both.

    ``integration_id`` is the cloud integration Encord reads the bucket through; ``ignore_errors`` lets a
    job finish DONE past per-file errors (Encord's own recommendation), which still come back per unit.
    """

    folder_uuid: UUID | None = Field(default=None, description="Storage folder to register into.")
    dataset_hash: UUID | None = Field(default=None, description="Dataset to register into (v1 API).")
    integration_id: UUID = Field(description="The cloud integration Encord reads the bucket with.")
    ignore_errors: bool = Field(default=True, description="Finish the job past per-file errors.")

    @model_validator(mode="after")
    def _one_target(self) -> EncordDestination:
        if (self.folder_uuid is None) == (self.dataset_hash is None):
            raise ValueError("give exactly one of folder_uuid and dataset_hash")
        return self

    @property
    def kind(self) -> Literal["folder", "dataset"]:
        return "folder" if self.folder_uuid is not None else "dataset"

    @property
    def target_id(self) -> str:
        return str(self.folder_uuid if self.folder_uuid is not None else self.dataset_hash)


def parse_destination(value: Mapping[str, Any] | EncordDestination) -> EncordDestination:
    """A validated destination, or a one-line :class:`ConfigError` naming the bad field."""
    if isinstance(value, EncordDestination):
        return value
    try:
        return EncordDestination.model_validate(dict(value))
    except ValidationError as error:
        raise ConfigError("destination", dict(value), validation_message("destination", error)) from None


def spec_fingerprint(body: str) -> str:
    """A short digest of a spec, so a job record can prove it belongs to this manifest's text."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]


class JobRecord(StrictModel):
    """What a register task knows about its batch's job, written beside the manifest.

    ``state`` is ``starting`` before the start request is sent, ``started`` with the job id once Encord
    answered, ``unanswered`` when the start got no usable answer (the job may or may not exist). A retried
    task resumes a ``started`` job; after ``starting`` (a crash in the one request's window) or
    ``unanswered`` it may start again only when the spec has ``skip_duplicate_urls``, which makes a second
    job skip whatever a ghost first job registered.
    """

    state: Literal["starting", "started", "unanswered"]
    destination: str
    spec: str
    job_id: str | None = None
    at: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    note: str = ""


def job_record_path(manifest: Any) -> Any:
    """``.../manifests/batch-00001.json`` -> ``.../jobs/batch-00001.json`` (any pathlib-like path)."""
    stem = manifest.name.split(".", 1)[0]
    folder = manifest.parent.parent if manifest.parent.name == "manifests" else manifest.parent
    return folder / "jobs" / f"{stem}.json"


def read_job_record(path: Any) -> JobRecord | None:
    if not path.exists():
        return None
    with path.open("r", encoding="utf-8") as stream:
        text = stream.read()
    try:
        return JobRecord.model_validate_json(text)
    except ValidationError as error:
        raise IngestError(
            f"Encord job record {path} cannot be read ({validation_message('record', error)}); the job it names may "
            "have run: check the folder or dataset in Encord, then delete the file to start the batch's job again"
        ) from None


def write_job_record(path: Any, record: JobRecord) -> None:
    """Record a started job whole: a task killed while writing must not leave a record it cannot read back."""
    write_text_whole(path, record.model_dump_json())


def destination_key(destination: EncordDestination) -> str:
    """``folder:<uuid>`` or ``dataset:<hash>``: a record resumes only a job of the same destination."""
    return f"{destination.kind}:{destination.target_id}"
