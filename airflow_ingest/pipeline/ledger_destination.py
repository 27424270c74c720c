"""Which ledger a sync uses: the destination it registers into, and the store named after it.

The plan, the commit and the CLI all open a sync's ledger through :func:`store_for`, so they agree on it. The
destination (platform, account, dataset / folder / project, storage, bucket) names the default folder and is
recorded in ``HEAD.json`` (:mod:`airflow_ingest.core.ledger_head`); the account comes from the platform's
Airflow connection.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from airflow_ingest.core.ledger import LedgerError
from airflow_ingest.core.ledger_head import Destination
from airflow_ingest.pipeline.ledger_store import KEEP_LEDGERS, LedgerStore

log = logging.getLogger(__name__)


def legacy_sync_name(platform: str, target: Mapping[str, Any], source: Any) -> str:
    """The default name before ledgers recorded their destination (it ignored the account, folder and project)."""
    where = target.get("dataset_slug") or target.get("storage_id") or "target"
    return f"{platform}-{where}-{source.container}"


def destination_for(
    platform: str, target: Mapping[str, Any], source: Any, register: Mapping[str, Any] | None = None
) -> Destination:
    """The destination a run registers into, from the plan's target and the register task's arguments.

    ``register`` holds ``platform_conn_id`` and the register operator's arguments (``folder_uuid``,
    ``dataset_hash``, ``integration_id``, ``project_id``). The account is read from the platform connection:
    V7's ``extra.team_slug``, RedBrick's ``extra.org_id``; Encord's keys name no account, so its connection id.
    """
    register = dict(register or {})
    conn_id = str(register.get("platform_conn_id") or "")
    extra = _connection_extra(conn_id) if platform in ("darwin", "redbrick") else {}
    bucket = f"{source.scheme.value}://{source.container}"
    if platform == "darwin":
        account = str(extra.get("team_slug") or conn_id)
        where, storage = str(target.get("dataset_slug") or ""), str(target.get("storage_slug") or "")
    elif platform == "encord":
        account = conn_id
        where = str(register.get("folder_uuid") or register.get("dataset_hash") or "")
        storage = str(register.get("integration_id") or "")
    else:
        account = str(extra.get("org_id") or conn_id)
        where = str(register.get("project_id") or extra.get("project_id") or "")
        storage = str(target.get("storage_id") or "")
    return Destination(platform, account, where, storage, bucket)


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
    keep: int = KEEP_LEDGERS,
) -> LedgerStore:
    """The ledger store of a sync, as the plan, the commit and the CLI all open it (see :func:`open_store`)."""
    destination = destination_for(platform, target, source, register)
    return open_store(state, sync_name, destination, legacy_sync_name(platform, target, source), keep=keep)
