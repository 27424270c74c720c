"""The ledger's store: ``{state}/{sync_name}/`` on any ``ObjectStoragePath`` (``file://``, ``s3://``, ...).

Layout: ``HEAD.json`` names the current ledger file and its entry count and SHA-256; ledger files are
``ledger-{run}.jsonl.gz`` and are never rewritten. Reading verifies the checksum before a single entry is
trusted; committing merges the current ledger with the run's entries into a new file, then replaces
``HEAD.json`` in one small write. Runs of one sync must not overlap (the example DAGs set
``max_active_runs=1``); if they do, the platforms' own duplicate answers keep objects from being
registered twice, and the later commit wins.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

from airflow_ingest.core.ledger import Entry, LedgerError, head_document, merge_entries, read_entries, write_entries


def default_sync_name(platform: str, target: dict[str, Any], source: Any) -> str:
    """One ledger per platform target and bucket, unless a name is given."""
    where = target.get("dataset_slug") or target.get("storage_id") or "target"
    return f"{platform}-{where}-{source.container}"


class LedgerStore:
    def __init__(self, state: str, sync_name: str) -> None:
        from airflow.sdk import ObjectStoragePath

        from airflow_ingest.operators.workspace import safe_segment

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
        return f"repair it with `airflow-ingest ledger repair` or move {self.folder} aside to start over"

    def entries(self) -> Iterator[Entry]:
        """The current entries, sorted by url, after checking the file against its head."""
        head = self.head()
        if head is None:
            return iter(())
        path = self.folder / head["ledger"]
        if not path.exists():
            raise LedgerError(f"{path} named by {self.head_path} is missing; {self._repair}")
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != head["sha256"]:
            raise LedgerError(f"{path} does not match its checksum in {self.head_path}; {self._repair}")
        return self._read(path, head["entries"])

    def _read(self, path: Any, expected: int) -> Iterator[Entry]:
        count = 0
        with path.open("rb") as stream:
            for entry in read_entries(stream):
                count += 1
                yield entry
        if count != expected:
            raise LedgerError(f"{path} holds {count} entries, its head says {expected}; {self._repair}")

    def commit(self, run_id: str, new: Iterable[Entry]) -> dict[str, Any]:
        """Merge ``new`` (sorted by url) into the ledger as a new file, then point the head at it."""
        from airflow_ingest.operators.workspace import safe_segment

        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"ledger-{safe_segment(run_id)}-{time.time_ns():x}.jsonl.gz"  # never the file being read
        with (self.folder / name).open("wb") as out:
            count, sha256 = write_entries(merge_entries(self.entries(), new), out)
        head = head_document(name, count, sha256, run_id)
        self.head_path.write_text(json.dumps(head), encoding="utf-8")
        return head
