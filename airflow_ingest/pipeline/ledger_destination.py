"""Which ledger a sync uses: the destination it registers into, and the store named after it.

The plan, the commit and the CLI all open a sync's ledger through :func:`store_for`, so they agree on it. The
destination (platform, account, dataset / folder / project, storage, bucket) names the default folder and is
recorded in ``HEAD.json`` (:mod:`airflow_ingest.core.ledger_head`). Each platform names its own destination
(:data:`Naming`): the caller passes its rule in, so nothing here names a platform.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from airflow_ingest.core.ledger import LedgerError
from airflow_ingest.core.ledger_head import Destination
from airflow_ingest.pipeline.ledger_store import KEEP_LEDGERS, LedgerStore

log = logging.getLogger(__name__)


def legacy_sync_name(platform: str, target: Mapping[str, Any], source: Any) -> str:
    """The default name before ledgers recorded their destination (it ignored the account, folder and project)."""
    where = target.get("dataset_slug") or target.get("storage_id") or "target"
    return f"{platform}-{where}-{source.container}"


Naming = Callable[[Mapping[str, Any], Mapping[str, Any], str, Callable[[], Mapping[str, Any]]], tuple[str, str, str]]
"""How a platform names its destination: ``(target, register, conn_id, extra) -> (account, where, storage)``.

Each platform declares its own (``Platform.destination``); the caller, which knows the platform, hands it here
(this module sits below the platforms). ``extra()`` reads the platform connection's ``extra`` when called, so a
platform whose destination needs no account from it reads no connection.
"""


def destination_for(
    platform: str,
    target: Mapping[str, Any],
    source: Any,
    register: Mapping[str, Any] | None = None,
    *,
    naming: Naming,
) -> Destination:
    """The destination a run registers into, from the plan's target and the register task's arguments.

    ``register`` holds ``platform_conn_id`` and the register operator's arguments (``folder_uuid``,
    ``project_id``...); ``naming`` is the platform's rule, which may read the connection's ``extra`` (V7's
    ``team_slug``, a default project id).
    """
    register = dict(register or {})
    conn_id = str(register.get("platform_conn_id") or "")
    account, where, storage = naming(target, register, conn_id, lambda: _connection_extra(conn_id))
    return Destination(platform, account, where, storage, f"{source.scheme.value}://{source.container}")


def _connection_extra(conn_id: str) -> dict[str, Any]:
    if not conn_id:
        return {}
    from airflow.sdk import BaseHook

    try:
        extra = BaseHook.get_connection(conn_id).extra_dejson
    except Exception:  # an undefined connection fails the register task with its own message
        return {}
    return extra if isinstance(extra, dict) else {}


def open_store(
    state: str, sync_name: str | None, destination: Destination, legacy_name: str, *, keep: int = KEEP_LEDGERS
) -> LedgerStore:
    """The ledger of ``destination`` under ``state``: the given name, or the default one.

    A ledger kept under the earlier default name (``legacy_name``) that records no destination, or this one,
    is used where it is (and records the destination at its next commit), so existing syncs keep their ledger.
    """
    if sync_name:
        return LedgerStore(state, sync_name, destination, keep=keep)
    store = LedgerStore(state, destination.default_name(), destination, keep=keep)
    if store.head_path.exists():
        return store
    legacy = LedgerStore(state, legacy_name, destination, keep=keep)
    try:
        found = legacy.head_path.exists() and legacy._head_document()
    except LedgerError:
        found = None
    if found and found["destination"] in (None, destination):
        log.info("Using the ledger %s under its earlier default name for %s", legacy.folder, destination.describe())
        return legacy
    return store


def store_for(
    state: str,
    sync_name: str | None,
    platform: str,
    target: Mapping[str, Any],
    source: Any,
    register: Mapping[str, Any] | None = None,
    *,
    naming: Naming,
    keep: int = KEEP_LEDGERS,
) -> LedgerStore:
    """The ledger store of a sync, as the plan, the commit and the CLI all open it (see :func:`open_store`).

    ``naming`` is the platform's destination rule (``get_platform(platform).name_destination``)."""
    destination = destination_for(platform, target, source, register, naming=naming)
    return open_store(state, sync_name, destination, legacy_sync_name(platform, target, source), keep=keep)
