"""The run report's rows and the outcome files they come from, for any pathlib-like run folder.

Each registered batch leaves ``outcomes/batch-NNNNN.json`` beside ``manifests/``; the report walks the
plan's item index (``items.jsonl``), so an item whose batch never got an outcome file (a task killed, a
key refused) is still reported, as ``failed``: nothing goes missing. Paths may be ``pathlib.Path`` (the CLI)
or Airflow's ``ObjectStoragePath`` (the operators): only ``/``, ``open``, ``exists`` and ``parent`` are used.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from airflow_ingest.core.errors import IngestError
from airflow_ingest.core.files import write_text_whole
from airflow_ingest.core.ledger import Entry
from airflow_ingest.core.outcomes import SUCCESSFUL, Outcome, OutcomeKind, ReportRow, ReportWriter
from airflow_ingest.core.plan import INDEX, Plan


def outcome_path(manifest: Any) -> Any:
    """``.../manifests/batch-00001.json`` -> ``.../outcomes/batch-00001.json`` (whatever the manifest suffix)."""
    stem = manifest.name.split(".", 1)[0]
    return (
        manifest.parent.parent / "outcomes" / f"{stem}.json"
        if manifest.parent.name == "manifests"
        else (manifest.parent / "outcomes" / f"{stem}.json")
    )


def write_outcomes(path: Any, outcomes: Iterable[Outcome]) -> None:
    """Record a batch's outcomes whole: a task killed while writing leaves no file, never half of one."""
    write_text_whole(path, json.dumps([o.to_json() for o in outcomes], ensure_ascii=False))


def read_outcomes(path: Any) -> dict[str, Outcome] | None:
    """The outcomes of one batch by item id, or None when the batch was never registered."""
    if not path.exists():
        return None
    with path.open("r", encoding="utf-8") as stream:
        text = stream.read()
    try:
        return {o.item: o for o in map(Outcome.from_json, json.loads(text))}
    except (ValueError, KeyError, TypeError) as error:  # edited by hand or cut by a full disk: not to be trusted
        raise IngestError(
            f"outcome file {path} cannot be read ({type(error).__name__}: {error}); its batch's items may or may "
            "not be registered: compare them with the platform, then delete the file to send the batch again"
        ) from None


def report_rows(base: Any, plan: Plan) -> Iterator[tuple[ReportRow, list[dict[str, Any]]]]:
    """Every planned item with its outcome and its objects, in batch order; memory holds one batch's outcomes."""
    current, outcomes = 0, None
    with (base / INDEX).open("r", encoding="utf-8") as index:
        for line in index:
            entry = json.loads(line)
            number, item = int(entry["batch"]), entry["item"]
            if number != current:
                current, outcomes = number, read_outcomes(outcome_path(base / plan.batches[number - 1].path))
            outcome = outcomes.get(item) if outcomes is not None else None
            if outcome is None:
                why = (
                    "not registered: the register task for this batch did not finish"
                    if outcomes is None
                    else "the register task recorded no outcome for this item"
                )
                outcome = Outcome(item, OutcomeKind.FAILED, why, retryable=True)
            row = ReportRow(
                item=item,
                objects=" ".join(o["url"] for o in entry["objects"]),
                platform=plan.platform,
                outcome=outcome.outcome.value,
                reason=outcome.reason,
                retryable=outcome.retryable,
                batch=number,
            )
            yield row, entry["objects"]


RetryCut = Callable[[int, set[str]], str | None]
"""``(batch number, item ids) -> manifest``: a batch's manifest cut down to those items in the platform's own
format, or None when it cannot be cut (the platform's :meth:`~airflow_ingest.platforms.base.Platform.retry_cut`)."""


def write_report(base: Any, plan: Plan, *, retry: RetryCut, **fields: object) -> tuple[dict[str, int], list[str]]:
    """``report.csv`` and ``report.json`` (with ``fields``), and the retry manifests ``retry`` cuts; returns the
    totals and the retry manifests' paths."""
    retryable: dict[int, set[str]] = {}
    with (
        (base / "report.csv").open("w", encoding="utf-8", newline="") as csv_out,
        (base / "report.json").open("w", encoding="utf-8") as json_out,
    ):
        writer = ReportWriter(csv_out, json_out)
        for row, _ in report_rows(base, plan):
            writer.add(row)
            if row.outcome == OutcomeKind.FAILED.value and row.retryable:
                retryable.setdefault(row.batch, set()).add(row.item)
        totals = writer.close(**fields)
    return totals, write_retry_manifests(base, plan, retryable, retry)


def registered_entries(base: Any, plan: Plan) -> Iterator[Entry]:
    """The objects of registered and duplicate items, streamed from the index, for the ledger."""
    successful = {kind.value for kind in SUCCESSFUL}
    for row, members in report_rows(base, plan):
        if row.outcome in successful:
            for member in members:
                yield Entry(member["url"], member["etag"], row.item)


def write_retry_manifests(base: Any, plan: Plan, retryable: dict[int, set[str]], retry: RetryCut) -> list[str]:
    """For each batch with retryable failures, its manifest cut down to those items, under ``retry/``.

    The files are in the platform's own format, so the register operator (or a person) can resend exactly
    them. Encord's CSV specs (for the web UI) are not cut down; their report lists the items.
    """
    written = []
    for number, items in sorted(retryable.items()):
        batch = plan.batches[number - 1]
        body = retry(number, items)
        if body is None:
            continue
        path = base / "retry" / batch.path.rpartition("/")[2]
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            out.write(body)
        written.append(str(path))
    return written
