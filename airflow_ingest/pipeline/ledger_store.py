"""The ledger's store: ``{state}/{sync_name}/`` on any ``ObjectStoragePath`` (``file://``, ``s3://``, ...).

Layout: ``HEAD.json`` names the current ledger file, its entry count and SHA-256, and the destination the
ledger belongs to (:mod:`airflow_ingest.core.ledger_head`); ledger files are ``ledger-{run}-{time}.tsv.gz``
(``.jsonl.gz`` before format 2) and are never rewritten. Reading verifies the checksum before a single entry is
trusted; committing merges the current ledger with the run's entries into a new file, then replaces
``HEAD.json`` with a compare-and-swap (:mod:`airflow_ingest.storage.ledger_cas`): when another commit landed
in between, this one reads the new head, merges again and retries, so concurrent commits keep every entry.

A commit that adds nothing writes nothing. After a commit, ledger files beyond the newest ``keep`` are
deleted (never the head's): ``ledger repair`` falls back to the newest intact file, so ``keep`` is at least 2.

When a head cannot be trusted (unreadable, naming a missing or altered file, or a file outside its folder),
:meth:`LedgerStore.repair` points it at the newest ledger file that is still intact, optionally adding entries
(a run's registered outcomes) that the lost commit held. It only adds files and replaces the head.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import random
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from itertools import count as counter
from operator import itemgetter
from typing import Any

from airflow_ingest.core.files import safe_segment
from airflow_ingest.core.ledger import (
    CORRUPT,
    Entry,
    LedgerError,
    merge_entries,
    newest_first,
    read_entries,
    verify_entries,
    write_entries,
)
from airflow_ingest.core.ledger_head import (
    Destination,
    check_destination,
    check_ledger_name,
    head_json,
    parse_head,
    prunable,
)
from airflow_ingest.storage.ledger_cas import Conflict, VersionedObject

log = logging.getLogger(__name__)
_first = itemgetter(0)

KEEP_LEDGERS = 3
"""Ledger files kept after a commit: the head's and two before it, for ``ledger repair`` to fall back to."""

ATTEMPTS = 20
"""Commits tried before giving up on a head that keeps changing (eight at once settle in well under this)."""


class LedgerStore:
    def __init__(
        self, state: str, sync_name: str, destination: Destination | None = None, *, keep: int = KEEP_LEDGERS
    ) -> None:
        from airflow.sdk import ObjectStoragePath

        if keep < 2:
            raise LedgerError(f"keep_ledgers is {keep}: keep at least 2 (the current file and one to repair from)")
        self.state, self.sync_name, self.destination, self.keep = state, sync_name, destination, keep
        self.folder = ObjectStoragePath(state) / safe_segment(sync_name)
        self.head_path = self.folder / "HEAD.json"

    def _head_document(self, text: bytes | None = None) -> dict[str, Any] | None:
        if text is None:
            if not self.head_path.exists():
                return None
            text = self.head_path.read_bytes()
        try:
            return parse_head(text.decode("utf-8", errors="replace"), str(self.head_path))
        except LedgerError as error:
            raise LedgerError(f"{error}; {self._repair}") from None

    def head(self) -> dict[str, Any] | None:
        """The head's ledger file, entry count and checksum; refused if it belongs to another destination."""
        head = self._head_document()
        if head is None:
            return None
        check_destination(head["destination"], self.destination, str(self.folder))
        return {"ledger": head["ledger"], "entries": head["entries"], "sha256": head["sha256"]}

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
            VersionedObject(self.head_path)  # a storage without conditional writes is refused now too
        except OSError as error:
            raise LedgerError(
                f"the ledger folder {self.folder} cannot be written ({error.strerror or error}): give a --state / "
                "state that this process may write"
            ) from None

    def entries(self) -> Iterator[Entry]:
        """The current entries, sorted by url, after checking the file against its head."""
        return self._entries_of(self.head())

    def _entries_of(self, head: Mapping[str, Any] | None) -> Iterator[Entry]:
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

        Counted by ``zip`` with a counter, in C: a Python step per entry here was a visible part of a selection.
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
        """Merge ``new`` (sorted by url) into the ledger as a new file, then swap the head to it.

        ``new`` is spooled to a temporary file once, so a conflict can merge it again into the head another
        commit just wrote. Nothing new (no entry, or every entry already held as it is) writes nothing.
        """
        with tempfile.TemporaryFile(prefix="airflow-ingest-commit-") as spool:
            added, _ = write_entries(new, spool)
            for attempt in range(ATTEMPTS):
                spool.seek(0)
                head = self._try_commit(run_id, spool, added)
                if head is not None:
                    return head
                time.sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))  # jitter: the losers spread out
        raise LedgerError(
            f"{self.head_path} changed under {ATTEMPTS} commits in a row: too many runs commit to this ledger at "
            f"once; run them one at a time (max_active_runs=1) or retry the commit task"
        )

    def _try_commit(self, run_id: str, spool: Any, added: int) -> dict[str, Any] | None:
        """One read-merge-swap; ``None`` when another commit swapped the head first."""
        versioned = VersionedObject(self.head_path)
        text, token = versioned.read()
        current = self._head_document(text) if text is not None else None
        if current is not None:
            check_destination(current["destination"], self.destination, str(self.folder))
        if added == 0 and current is not None:
            return self._adopt(versioned, current, token, run_id)
        same: list[int] = []
        try:
            merged = merge_entries(self._entries_of(current), read_entries(spool), same)
            name, count, sha256 = self._write_file(run_id, merged)
        except (LedgerError, FileNotFoundError):
            if versioned.read()[1] != token:  # the head moved on and its old file was pruned meanwhile: merge again
                return None
            raise
        if current is not None and same and same[0] == added:  # every entry already held as it is
            _unlink(self.folder / name)
            return self._adopt(versioned, current, token, run_id)
        head = head_json(name, count, sha256, run_id, self.destination)
        try:
            versioned.swap(json.dumps(head).encode("utf-8"), token)
        except Conflict:
            _unlink(self.folder / name)
            log.info("Ledger %s: another commit landed first; merging again", self.folder)
            return None
        if current is not None and current["destination"] is None and self.destination is not None:
            log.info("Ledger %s now records its destination: %s", self.folder, self.destination.describe())
        self._prune(name)
        return head

    def _adopt(
        self, versioned: VersionedObject, current: dict[str, Any], token: str | None, run_id: str
    ) -> dict[str, Any] | None:
        """The head as it is (nothing new); a head without a destination records this one, in place."""
        head = head_json(current["ledger"], current["entries"], current["sha256"], run_id, current["destination"])
        if current["destination"] is None and self.destination is not None:
            head = head_json(current["ledger"], current["entries"], current["sha256"], run_id, self.destination)
            try:
                versioned.swap(json.dumps(head).encode("utf-8"), token)
            except Conflict:
                return None
            log.info("Ledger %s now records its destination: %s", self.folder, self.destination.describe())
        return head

    def _write_file(self, run_id: str, entries: Iterable[Entry]) -> tuple[str, int, str]:
        from airflow_ingest.core.ledger import ledger_file_name

        self.folder.mkdir(parents=True, exist_ok=True)
        name = ledger_file_name(safe_segment(run_id), time.time_ns())  # never the file being read
        with (self.folder / name).open("wb") as out:
            count, sha256 = write_entries(entries, out)
        return name, count, sha256

    def _write(self, run_id: str, entries: Iterable[Entry]) -> dict[str, Any]:
        """A new ledger file and a head naming it, replacing the head as it is now (what a repair does)."""
        versioned = VersionedObject(self.head_path)
        _, token = versioned.read()
        name, count, sha256 = self._write_file(run_id, entries)
        head = head_json(name, count, sha256, run_id, self.destination)
        self._swap(versioned, head, token)
        return head

    def _swap(self, versioned: VersionedObject, head: dict[str, Any], token: str | None) -> None:
        try:
            versioned.swap(json.dumps(head).encode("utf-8"), token)
        except Conflict:
            raise LedgerError(
                f"{self.head_path} changed while it was being repaired (a commit landed): run the repair again"
            ) from None

    def _prune(self, current: str) -> None:
        """Delete ledger files beyond the newest ``keep``; a failure is logged, the commit stands."""
        try:
            names = [path.name for path in self.folder.iterdir()]
            for name in prunable(names, self.keep, current, now_ns=time.time_ns()):
                (self.folder / name).unlink()
                log.info("Ledger %s: deleted %s (keeping the newest %d files)", self.folder, name, self.keep)
        except OSError as error:
            log.warning("Ledger %s: old ledger files were not deleted (%s); the next commit tries again",
                        self.folder, error)  # fmt: skip

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
        self.destination = self.destination or self._recorded_destination()  # a repair keeps what the head held
        if ledger is not None:
            candidates = [check_ledger_name(ledger, "--ledger")]
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
            head = head_json(chosen, count, _sha256(self.folder / chosen), run_id, self.destination)
            versioned = VersionedObject(self.head_path)
            self._swap(versioned, head, versioned.read()[1])
        else:
            base = self._unchecked(chosen) if chosen is not None else iter(())
            more: Iterable[Entry] = () if first is None else _prepend(first, additions)
            head = self._write(run_id, merge_entries(base, more))
        return {"head": head, "adopted": chosen, "skipped": skipped}

    def _recorded_destination(self) -> Destination | None:
        try:
            head = self._head_document()
        except LedgerError:
            return None
        return None if head is None else head["destination"]

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


def _unlink(path: Any) -> None:
    with contextlib.suppress(FileNotFoundError):  # already pruned by a concurrent commit
        path.unlink()


def _prepend(first: Entry, rest: Iterator[Entry]) -> Iterator[Entry]:
    yield first
    yield from rest


def _sha256(path: Any) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
