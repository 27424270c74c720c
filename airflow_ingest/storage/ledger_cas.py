"""Compare-and-swap of one small object (a ledger's ``HEAD.json``) on every storage a ledger can live on.

Two commits to one ledger at the same moment each read the head, merge and write: with a plain overwrite the
later one drops the other's entries, silently. Each cloud offers a conditional write, so the head is only
replaced if it is still the version that was read, and otherwise the commit reads again and merges again. The
per-cloud parts are the storage's own (:meth:`~airflow_ingest.storage.base.Storage.read_versioned` and
:meth:`~airflow_ingest.storage.base.Storage.swap`: S3 ``If-Match`` / ``If-None-Match: *``, GCS
``ifGenerationMatch``, Azure ``If-Match`` / create without overwrite, a local ``flock``), through the connection
the ledger's ``ObjectStoragePath`` names, so the ledger's head goes through the same hooks as everything else.
"""

from __future__ import annotations

from typing import Any

from airflow_ingest.core.ledger import LedgerError
from airflow_ingest.core.urls import Scheme
from airflow_ingest.storage.base import DEFAULT_CONN_IDS, Conflict, Storage

__all__ = ["Conflict", "VersionedObject"]

_SCHEMES = {"s3": Scheme.S3, "s3a": Scheme.S3, "gs": Scheme.GCS, "gcs": Scheme.GCS, "abfs": Scheme.AZURE}
_SCHEMES |= {"az": Scheme.AZURE, "abfss": Scheme.AZURE, "file": Scheme.FILE, "local": Scheme.FILE, "": Scheme.FILE}


class VersionedObject:
    """One object of an ``ObjectStoragePath``, read with a version token and replaced only if the token holds."""

    def __init__(self, path: Any) -> None:
        self.path = path
        protocol = str(getattr(path, "protocol", None) or _protocol(path.fs))
        scheme = _SCHEMES.get(protocol)
        if scheme is None:
            raise LedgerError(
                f"a ledger on {protocol}:// cannot be committed safely (no conditional write): give a state on "
                "s3://, gs://, abfs:// or a local folder"
            )
        self.storage = _storage(scheme, getattr(path, "conn_id", None))
        if scheme is Scheme.FILE:
            self.container, self.key = "/", str(path.path).lstrip("/")
        else:
            self.container, self.key = str(path.bucket), str(path.key)

    def read(self) -> tuple[bytes | None, str | None]:
        """The content and its version token; ``(None, None)`` when the object does not exist."""
        return self.storage.read_versioned(self.container, self.key)

    def swap(self, data: bytes, token: str | None) -> None:
        """Write ``data`` if the object is still at ``token`` (absent when ``None``); else :class:`Conflict`."""
        try:
            self.storage.swap(self.container, self.key, data, token)
        finally:  # the ledger reads its files through fsspec too: never from a listing cached before this write
            if self.storage.scheme is not Scheme.FILE:
                self.path.fs.invalidate_cache(self.path.path)


def _protocol(fs: Any) -> str:
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return str(next((p for p in protocols if p in _SCHEMES), protocols[0]))


def _storage(scheme: Scheme, conn_id: str | None) -> Storage:
    """The path's connection, else the scheme's default one; on S3 none at all means the ambient credentials."""
    if scheme is Scheme.FILE:
        from airflow_ingest.storage.local import LocalStorage

        return LocalStorage()
    if scheme is Scheme.S3:
        from airflow_ingest.storage.s3 import S3Storage

        return S3Storage(conn_id)
    from airflow_ingest.storage.base import storage_for

    return storage_for(scheme, conn_id or DEFAULT_CONN_IDS[scheme])
