"""Encord's answers, pure: what an upload job's state says, and one outcome per planned item.

An Encord upload job takes one JSON spec and registers its entries asynchronously; its result (SDK
``UploadLongPollingState`` for folders, ``DatasetDataLongPolling`` for datasets) names what was *added*
(``items_with_names`` / ``data_hashes_with_titles``, by title), what failed (``unit_errors[].object_urls``
with Encord's error text) and four counters. It has no list of skipped URLs: neither the SDK
(``encord/orm/storage.py``, ``encord/orm/dataset.py``) nor Encord's docs say how ``skip_duplicate_urls``
reports a URL it skipped, only that it is "skipped". So an entry that a DONE job neither added nor
rejected counts as a duplicate only when the spec asked for ``skip_duplicate_urls`` and every unit error
was attributed to a spec URL; otherwise it is a retryable failure (a re-send is harmless with the flag on).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.outcomes import Outcome, OutcomeKind, raw_text
from airflow_ingest.core.urls import Linker
from airflow_ingest.platforms.encord.target import StrictModel

JobStatus = Literal["PENDING", "DONE", "ERROR", "CANCELLED"]


FINAL_STATUSES: frozenset[str] = frozenset({"DONE", "ERROR", "CANCELLED"})


class UnitError(StrictModel):
    object_urls: tuple[str, ...]
    error: str


class JobCounts(StrictModel):
    pending: int = 0
    done: int = 0
    error: int = 0
    cancelled: int = 0


class JobResult(StrictModel):
    """A job's state in one shape for folders and datasets; ``added`` holds the titles Encord created."""

    status: JobStatus
    added: tuple[str, ...] = ()
    unit_errors: tuple[UnitError, ...] = ()
    errors: tuple[str, ...] = ()
    counts: JobCounts = JobCounts()

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES


def job_result_from(state: Any, *, folder: bool) -> JobResult:
    """A :class:`JobResult` from the SDK's polling state (``UploadLongPollingState`` for folders,
    ``DatasetDataLongPolling`` for datasets), whatever shape its fields arrived in.

    Fields of another shape count as empty (a unit error without URLs blames nothing, so its entries stay
    unsettled and end ``failed``); only a status that is none of the four is refused, with ``ValueError``
    quoting it, since without it nothing can be concluded.
    """
    status = getattr(state, "status", None)
    status = getattr(status, "value", status)
    if status not in ("PENDING", "DONE", "ERROR", "CANCELLED"):
        raise ValueError(f"Encord answered a job state without a known status: {raw_text(status)}")
    if folder:
        added = [getattr(entry, "name", None) for entry in _listed(getattr(state, "items_with_names", None))]
        units = _listed(getattr(state, "unit_errors", None))
    else:
        added = [getattr(entry, "title", None) for entry in _listed(getattr(state, "data_hashes_with_titles", None))]
        units = _listed(getattr(state, "data_unit_errors", None))
    unit_errors = []
    for unit in units:
        urls = getattr(unit, "object_urls", None)
        urls = [urls] if isinstance(urls, str) else _listed(urls)
        error = getattr(unit, "error", None)
        unit_errors.append(
            UnitError(
                object_urls=tuple(url for url in urls if isinstance(url, str)),
                error=error if isinstance(error, str) else raw_text(error),
            )
        )
    return JobResult(
        status=status,
        added=tuple(name for name in added if isinstance(name, str)),
        unit_errors=tuple(unit_errors),
        errors=tuple(e if isinstance(e, str) else raw_text(e) for e in _listed(getattr(state, "errors", None))),
        counts=JobCounts(
            pending=_count(getattr(state, "units_pending_count", 0)),
            done=_count(getattr(state, "units_done_count", 0)),
            error=_count(getattr(state, "units_error_count", 0)),
            cancelled=_count(getattr(state, "units_cancelled_count", 0)),
        ),
    )


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


SPEC_SECTIONS = ("videos", "images", "image_groups", "dicom_series", "nifti_files", "audio")


# --- the spec ---------------------------------------------------------------------------------------

_NUMBERED = re.compile(r"^objectUrl_(\d+)$")


@dataclass(frozen=True, slots=True)
class SpecEntry:
    section: str
    title: str
    urls: tuple[str, ...]


def spec_entries(spec: Mapping[str, Any]) -> list[SpecEntry]:
    """Every entry of a JSON spec with its URLs in order (``objectUrl`` or ``objectUrl_0``, ``_1``, ...)."""
    entries = []
    for section in SPEC_SECTIONS:
        for raw in spec.get(section) or []:
            if "objectUrl" in raw:
                urls: tuple[str, ...] = (str(raw["objectUrl"]),)
            else:
                numbered = sorted(
                    (int(m.group(1)), str(value)) for key, value in raw.items() if (m := _NUMBERED.match(key))
                )
                urls = tuple(url for _, url in numbered)
            entries.append(SpecEntry(section, str(raw.get("title") or ""), urls))
    return entries


# --- mapping URLs back to items ---------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _object_of(url: str, size: int = 0, etag: str = "") -> StoredObject:
    """A stored object rebuilt from its canonical ``scheme://container/key`` URL, enough for a :class:`Linker`."""
    rest = url.partition("://")[2]
    container, _, key = rest.partition("/")
    return StoredObject(url=url, container=container, key=key, size=size, etag=etag, last_modified=_EPOCH)


def url_owners(index: Iterable[Mapping[str, Any]], linker: Linker) -> dict[str, str]:
    """Platform-facing URL (as the spec spells it) -> planned item id, from the batch's index lines."""
    owners: dict[str, str] = {}
    for line in index:
        for member in line["objects"]:
            obj = _object_of(str(member["url"]), int(member.get("size") or 0), str(member.get("etag") or ""))
            owners[linker.link(obj)] = str(line["item"])
    return owners


def encord_retry(body: str, retry: set[str], index: Iterable[Mapping[str, Any]], linker: Linker) -> str | None:
    """The same JSON spec holding only the entries of the items in ``retry`` (plan item ids), or None if none.

    For a retry manifest: entries belong to items through their URLs, as for outcomes; with
    ``skip_duplicate_urls`` kept, entries that did land in the meantime are skipped, not doubled.
    """
    owners = url_owners(index, linker)
    spec = json.loads(body)
    kept: dict[str, Any] = {}
    for section in SPEC_SECTIONS:
        chosen = [raw for raw, entry in zip(spec.get(section) or [], _section_entries(spec, section), strict=True)
                  if any(owners.get(url) in retry for url in entry.urls)]  # fmt: skip
        if chosen:
            kept[section] = chosen
    if not kept:
        return None
    if spec.get("skip_duplicate_urls"):
        kept["skip_duplicate_urls"] = True
    return json.dumps(kept, ensure_ascii=False)


def _section_entries(spec: Mapping[str, Any], section: str) -> list[SpecEntry]:
    return spec_entries({section: spec.get(section) or []})


# --- outcomes ---------------------------------------------------------------------------------------

_DUPLICATE = "skipped by skip_duplicate_urls: Encord already holds these URLs"


def _missing_reason(result: JobResult, skip_duplicates: bool, unattributed: int) -> Outcome | None:
    """What an entry the job neither added nor rejected means, given how the job ended (None: duplicate)."""
    if result.status == "DONE":
        if skip_duplicates and unattributed == 0:
            return None
        why = "Encord finished the job without adding or rejecting this entry"
        if unattributed:
            why += f" ({unattributed} unit errors named URLs outside the spec)"
        return Outcome("", OutcomeKind.FAILED, why, retryable=True)
    if result.status == "CANCELLED":
        return Outcome("", OutcomeKind.FAILED, "the Encord job was cancelled before this entry", retryable=True)
    if result.status == "ERROR":
        detail = "; ".join(result.errors)[:500] or "no detail"
        return Outcome("", OutcomeKind.FAILED, f"the Encord job ended in ERROR first: {detail}", retryable=True)
    return Outcome("", OutcomeKind.FAILED, "the Encord job was still PENDING", retryable=True)


def encord_outcomes(
    result: JobResult,
    index: Sequence[Mapping[str, Any]],
    spec: Mapping[str, Any],
    linker: Linker,
) -> list[Outcome]:
    """One outcome per planned item of a batch (index order) from its job's result.

    Entries map to items through their URLs (the index's objects, linked the way the plan linked them);
    Encord names added entries by title, and rejected ones by URL. An item made of several entries (a
    study's series) is ``blocked`` if any entry was, ``failed`` if any was left undone, ``registered``
    if any was added, and ``duplicate`` only if all were skipped.
    """
    owners = url_owners(index, linker)
    skip_duplicates = bool(spec.get("skip_duplicate_urls"))
    errors_by_url: dict[str, str] = {}
    unattributed = 0
    for unit in result.unit_errors:
        known = [url for url in unit.object_urls if url in owners]
        unattributed += not known
        for url in unit.object_urls:
            errors_by_url[url] = unit.error
    added = Counter(result.added)
    missing = _missing_reason(result, skip_duplicates, unattributed)

    per_item: dict[str, list[Outcome]] = {}
    for entry in spec_entries(spec):
        item = next((owners[url] for url in entry.urls if url in owners), None)
        if item is None:
            continue  # not ours: the index and the spec come from the same plan, so this never happens
        error = next((errors_by_url[url] for url in entry.urls if url in errors_by_url), None)
        if error is not None:
            outcome = Outcome(item, OutcomeKind.BLOCKED, f"{entry.title}: {error}")
        elif added[entry.title] > 0:
            added[entry.title] -= 1
            outcome = Outcome(item, OutcomeKind.REGISTERED)
        elif missing is None:
            outcome = Outcome(item, OutcomeKind.DUPLICATE, _DUPLICATE)
        else:
            outcome = Outcome(item, missing.outcome, missing.reason, missing.retryable)
        per_item.setdefault(item, []).append(outcome)

    return [_combine(str(line["item"]), per_item.get(str(line["item"]), [])) for line in index]


def _combine(item: str, parts: list[Outcome]) -> Outcome:
    if not parts:
        return Outcome(item, OutcomeKind.FAILED, "no entry of the spec holds this item", retryable=True)
    kinds = {part.outcome for part in parts}
    for kind in (OutcomeKind.BLOCKED, OutcomeKind.FAILED):
        if kind in kinds:
            reasons = sorted({p.reason for p in parts if p.outcome is kind})
            retryable = kind is OutcomeKind.FAILED and all(p.retryable for p in parts if p.outcome is kind)
            return Outcome(item, kind, "; ".join(reasons)[:2000], retryable=retryable)
    if OutcomeKind.REGISTERED in kinds:
        skipped = sum(p.outcome is OutcomeKind.DUPLICATE for p in parts)
        note = f"{skipped} of {len(parts)} entries were already in Encord" if skipped else ""
        return Outcome(item, OutcomeKind.REGISTERED, note)
    return Outcome(item, OutcomeKind.DUPLICATE, _DUPLICATE)


def failed_outcomes(index: Iterable[Mapping[str, Any]], reason: str, *, retryable: bool) -> list[Outcome]:
    """The same failure for every item of a batch whose job never gave a usable result."""
    return [Outcome(str(line["item"]), OutcomeKind.FAILED, reason, retryable) for line in index]


def result_counts(result: JobResult) -> dict[str, int]:
    """The job's counters as a small dict (for logs and trigger events)."""
    return result.counts.model_dump()


# --- the job record ---------------------------------------------------------------------------------


def iter_urls(spec: Mapping[str, Any]) -> Iterator[str]:
    for entry in spec_entries(spec):
        yield from entry.urls
