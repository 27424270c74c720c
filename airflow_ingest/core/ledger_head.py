"""A ledger's head and identity: which destination a ledger belongs to, its folder name, and HEAD.json's checks.

A ledger answers "what does this destination already hold"; read for another destination it answers wrongly
and silently (every object "unchanged", nothing sent). So a ledger records the destination it belongs to
(platform, account, dataset / folder / project, storage, source bucket) in ``HEAD.json``, the default folder
name is derived from all of those, and a head recorded for another destination is refused. Prefixes of one
bucket share a ledger: the selection only looks at the entries under the listed prefix.

Folder names are a readable slug plus a hash of the whole identity: two destinations whose names differ only
in characters a slug drops (non-ASCII, punctuation) still get two folders. A ``HEAD.json`` is read as data
from storage, so the file it names must be a ledger file in its own folder: any other path is refused.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any

from airflow_ingest.core.ledger import LEDGER_FILE, LedgerError, newest_first

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a ledger's entries were registered, and from which bucket.

    ``account`` is the platform account (V7 team, RedBrick organization; for Encord, whose keys name no
    account, the connection id), ``target`` the dataset, storage folder, dataset hash or project, ``storage``
    the platform's storage or integration, ``bucket`` ``scheme://container`` of the source.
    """

    platform: str
    account: str
    target: str
    storage: str
    bucket: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Destination:
        if not isinstance(data, dict):
            raise TypeError(f"destination is {type(data).__name__}, not an object")
        return cls(**{name: str(data[name]) for name in ("platform", "account", "target", "storage", "bucket")})

    def describe(self) -> str:
        """One line a person recognises: ``darwin team 'acme' target 'cars' storage 'aws' from s3://bucket``."""
        return (
            f"{self.platform} account {self.account!r} target {self.target!r} storage {self.storage!r} "
            f"from {self.bucket}"
        )

    def default_name(self) -> str:
        """The ledger's folder name: ``{platform}-{target}-{container}`` as a slug, then 10 hex digits of a hash.

        The hash covers every field as given, so names never collide where identities differ; the slug is only
        there for a person listing the state folder.
        """
        container = self.bucket.split("://", 1)[-1]
        slug = slugify(f"{self.platform}-{self.target or 'target'}-{container}")[:80].strip("-.") or "ledger"
        identity = json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False).encode("utf-8")
        return f"{slug}-{hashlib.sha256(identity).hexdigest()[:10]}"


def slugify(text: str) -> str:
    """ASCII letters, digits, ``.``, ``_`` and ``-`` only: accents are dropped, anything else becomes ``-``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _UNSAFE.sub("-", ascii_text).strip("-")


def check_ledger_name(name: Any, where: str) -> str:
    """``name`` if it is a ledger file's plain name (no folder, no ``..``); else :class:`LedgerError`."""
    if not isinstance(name, str) or "/" in name or "\\" in name or not LEDGER_FILE.match(name) or ".." in name:
        raise LedgerError(
            f"{where} names {name!r}, which is not a ledger file in its own folder (ledger-<run>-<time>.tsv.gz); "
            "a head may only name a file next to it: repair it with `airflow-ingest ledger repair`"
        )
    return name


def parse_head(text: str, where: str) -> dict[str, Any]:
    """The fields of a ``HEAD.json`` (ledger, entries, sha256, run_id, destination or None), checked."""
    try:
        head = json.loads(text)
        parsed: dict[str, Any] = {
            "ledger": head["ledger"],
            "entries": int(head["entries"]),
            "sha256": str(head["sha256"]),
            "run_id": str(head.get("run_id", "")),
            "destination": None,
        }
        if head.get("destination") is not None:
            parsed["destination"] = Destination.from_json(head["destination"])
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise LedgerError(f"{where} is not a valid ledger head ({type(error).__name__}: {error})") from None
    check_ledger_name(parsed["ledger"], where)
    return parsed


def check_destination(recorded: Destination | None, wanted: Destination | None, folder: str) -> None:
    """Refuse a ledger recorded for another destination than the one this run registers into."""
    if recorded is None or wanted is None or recorded == wanted:
        return
    raise LedgerError(
        f"the ledger {folder} belongs to {recorded.describe()}, not to {wanted.describe()}: give this destination "
        "its own ledger (leave sync_name / --sync-name unset for the default name, or give another one)"
    )


def head_json(name: str, count: int, sha256: str, run_id: str, destination: Destination | None) -> dict[str, Any]:
    """The document a commit writes to ``HEAD.json``."""
    head: dict[str, Any] = {"ledger": name, "entries": count, "sha256": sha256, "run_id": run_id}
    if destination is not None:
        head["destination"] = destination.to_json()
    return head


PRUNE_GRACE_NS = 3600 * 10**9
"""Files younger than this are never pruned: they may be a concurrent commit's, written but not yet in a head."""


def prunable(names: list[str], keep: int, current: str, *, now_ns: int) -> list[str]:
    """The ledger files to delete: all but the ``keep`` most recent, never ``current`` (the head's file), and
    none written in the last hour (:data:`PRUNE_GRACE_NS`): a commit running alongside may be about to name it.

    ``ledger repair`` falls back to the newest intact file before the head's, so ``keep`` is at least 2.
    """
    if keep < 2:
        raise ValueError(f"keep is {keep}: keep at least 2 ledger files (the current one and one to repair from)")
    old = [name for name in newest_first(names)[keep:] if name != current]
    return [
        name for name in old if (match := LEDGER_FILE.match(name)) and int(match["ns"], 16) < now_ns - PRUNE_GRACE_NS
    ]
