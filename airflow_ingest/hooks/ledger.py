"""The ledger's store: ``{state}/{sync_name}/`` on any ``ObjectStoragePath`` (``file://``, ``s3://``, ...).

Layout: ``HEAD.json`` names the current ledger file and its entry count and SHA-256; ledger files are
``ledger-{run}-{time}.tsv.gz`` (``.jsonl.gz`` before format 2) and are never rewritten. Reading verifies the
checksum before a single entry is trusted; committing merges the current ledger with the run's entries into
a new file, then replaces ``HEAD.json`` in one small write. Runs of one sync must not overlap (the example
DAGs set ``max_active_runs=1``); if they do, the platforms' own duplicate answers keep objects from being
registered twice, and the later commit wins.

When a head cannot be trusted (unreadable, naming a missing or altered file), :meth:`LedgerStore.repair`
points it at the newest ledger file that is still intact, optionally adding entries (a run's registered
outcomes) that the lost commit held. It only ever adds files and replaces the head; nothing is deleted.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator
from itertools import count as counter
from operator import itemgetter
from typing import Any

from airflow_ingest.core.ledger import (
    CORRUPT,
    Entry,
    LedgerError,
    head_document,
    ledger_file_name,
    merge_entries,
    newest_first,
    read_entries,
    verify_entries,
    write_entries,
)

_first = itemgetter(0)


def default_sync_name(platform: str, target: dict[str, Any], source: Any) -> str:
    """One ledger per platform target and bucket, unless a name is given."""
    where = target.get("dataset_slug") or target.get("storage_id") or "target"
    return f"{platform}-{where}-{source.container}"


class LedgerStore:
    def __init__(self, state: str, sync_name: str) -> None:
        from airflow.sdk import ObjectStoragePath

        from airflow_ingest.operators.workspace import safe_segment

        self.state, self.sync_name = state, sync_name
        self.folder = ObjectStoragePath(state) / safe_segment(sync_name)
        self.head_path = self.folder / "HEAD.json"

    def head(self) -> dict[str, Any] | None:
        if not self.head_path.exists():
            return None
        try:
            head = json.loads(self.head_path.read_text(encoding="utf-8"))
            return {"ledger": str(head["ledger"]), "entries": int(head["entries"]), "sha256": str(head["sha256"])}
        except (ValueError, KeyError, TypeError) as error:
            raise LedgerError(f"{self.head_path} is not a valid ledger head ({error}); {self._repair}") from None

    @property
    def _repair(self) -> str:
        return (
            f"repair it with `airflow-ingest ledger repair --state {self.state} --sync-name {self.sync_name}` "
            f"(it points {self.head_path.name} at the newest intact ledger file; --from-run adds the runs whose "
            f"commits were lost), or move {self.folder} aside to start over"
        )

    def ensure_writable(self) -> None:
        """Fail now if the ledger folder cannot be written, not after a run has registered everything."""
        probe = self.folder / f".write-check-{time.time_ns():x}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            probe.write_text("ok", encoding="utf-8")
            probe.unlink()
        except OSError as error:
            raise LedgerError(
                f"the ledger folder {self.folder} cannot be written ({error.strerror or error}): give a --state / "
                "state that this process may write"
            ) from None

    def entries(self) -> Iterator[Entry]:
        """The current entries, sorted by url, after checking the file against its head."""
        head = self.head()
        if head is None:
            return iter(())
        path = self.folder / head["ledger"]
        if not path.exists():
            raise LedgerError(f"{path} named by {self.head_path} is missing; {self._repair}")
        if _sha256(path) != head["sha256"]:
            raise LedgerError(f"{path} does not match its checksum in {self.head_path}; {self._repair}")
        return self._read(path, head["entries"])

    def _read(self, path: Any, expected: int) -> Iterator[Entry]:
        """The file's entries, then a check of their count against the head's.

        Counted by ``zip`` with a counter, in C: a Python step per entry here cost a tenth of a selection.
        """
        seen = counter()
        try:
            with path.open("rb") as stream:
                yield from map(_first, zip(read_entries(stream), seen, strict=False))
        except LedgerError as error:
            raise LedgerError(f"{path}: {error}; {self._repair}") from None
        except CORRUPT as error:
            raise LedgerError(f"{path} cannot be read ({type(error).__name__}: {error}); {self._repair}") from None
        count = next(seen)  # zip stops on the exhausted reader before taking a number: this is the count
        if count != expected:
            raise LedgerError(f"{path} holds {count} entries, its head says {expected}; {self._repair}")

    def commit(self, run_id: str, new: Iterable[Entry]) -> dict[str, Any]:
        """Merge ``new`` (sorted by url) into the ledger as a new file, then point the head at it."""
        return self._write(run_id, merge_entries(self.entries(), new))

    def _write(self, run_id: str, entries: Iterable[Entry]) -> dict[str, Any]:
        from airflow_ingest.operators.workspace import safe_segment

        self.folder.mkdir(parents=True, exist_ok=True)
        name = ledger_file_name(safe_segment(run_id), time.time_ns())  # never the file being read
        with (self.folder / name).open("wb") as out:
            count, sha256 = write_entries(entries, out)
        head = head_document(name, count, sha256, run_id)
        self.head_path.write_text(json.dumps(head), encoding="utf-8")
        return head

    def repair(
        self,
        run_id: str = "repair",
        *,
        ledger: str | None = None,
        add: Iterable[Entry] = (),
        allow_empty: bool = False,
    ) -> dict[str, Any]:
        """Point ``HEAD.json`` at an intact ledger file again; what ``airflow-ingest ledger repair`` calls.

        ``ledger`` names the file to adopt; by default the newest ledger file in the folder that reads to its
        end, sorted and unique, is adopted. The file the current head names is passed over when the head is
        readable and the file no longer matches its checksum (it was altered after its commit), unless named.
        ``add`` (sorted by url, e.g. ``sorted_entries(registered_entries(run, plan))`` for the runs whose
        commits were lost) is merged in, as a commit would. Without it the head is pointed at the file as it
        is, no file is written. Objects a lost commit held and ``add`` does not are sent again by the next run,
        and the platforms answer them as duplicates, which that run records.

        With no intact file, :class:`LedgerError` is raised unless ``allow_empty``: then the ledger starts
        empty (plus ``add``), as moving the folder aside would. Returns the new head and what was passed over.
        """
        skipped: list[dict[str, str]] = []
        if ledger is not None:
            candidates = [ledger]
        else:
            suspect = self._suspect()
            if suspect is not None:
                skipped.append({"ledger": suspect, "reason": "does not match the checksum its head recorded"})
            found = [path.name for path in self.folder.iterdir()] if self.folder.exists() else []
            candidates = [name for name in newest_first(found) if name != suspect]
        chosen: str | None = None
        count = 0
        for name in candidates:
            path = self.folder / name
            try:
                if not path.exists():
                    raise LedgerError("missing")
                with path.open("rb") as stream:
                    count = verify_entries(stream)
            except LedgerError as error:
                skipped.append({"ledger": name, "reason": str(error)})
                continue
            chosen = name
            break
        if chosen is None and not allow_empty:
            reasons = "; ".join(f"{s['ledger']}: {s['reason']}" for s in skipped) or "none found"
            raise LedgerError(
                f"no intact ledger file in {self.folder} ({reasons}); pass allow_empty=True to start an empty "
                f"ledger there, or move {self.folder} aside"
            )
        additions = iter(add)
        first = next(additions, None)
        if first is None and chosen is not None:
            head = head_document(chosen, count, _sha256(self.folder / chosen), run_id)
            self.head_path.write_text(json.dumps(head), encoding="utf-8")
        else:
            base = self._unchecked(chosen) if chosen is not None else iter(())
            more: Iterable[Entry] = () if first is None else _prepend(first, additions)
            head = self._write(run_id, merge_entries(base, more))
        return {"head": head, "adopted": chosen, "skipped": skipped}

    def _suspect(self) -> str | None:
        """The file a readable head names when that file exists and no longer matches the head's checksum."""
        try:
            head = self.head()
        except LedgerError:
            return None
        if head is None:
            return None
        path = self.folder / head["ledger"]
        if path.exists() and _sha256(path) != head["sha256"]:
            return str(head["ledger"])
        return None

    def _unchecked(self, name: str) -> Iterator[Entry]:
        """A file's entries without a head to check them against (a repair verified the file just before)."""
        with (self.folder / name).open("rb") as stream:
            yield from read_entries(stream)


def _prepend(first: Entry, rest: Iterator[Entry]) -> Iterator[Entry]:
    yield first
    yield from rest


def _sha256(path: Any) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
