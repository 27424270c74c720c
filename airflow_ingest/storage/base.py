"""What every cloud's storage offers, through the provider hook of an Airflow connection, and the shared parts.

One class per cloud (:mod:`.s3`, :mod:`.gcs`, :mod:`.azure`, :mod:`.local`) lists (``walk``: every object under
a prefix, one page in memory; ``level``: the objects directly under a prefix and its sub-prefixes), reads
ranges, writes (create-only when asked), reads metadata, signs URLs and swaps a small object on a version token
(the ledger's head). Each turns its SDK's errors into one reason through a single ``explain``, so a listing, a
probe and a ledger commit give the same advice; the set-up (hook, client, connection check) is done once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from airflow_ingest.core.errors import StorageError
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.urls import Scheme, Source, scheme_of

DEFAULT_CONN_IDS: dict[Scheme, str] = {
    Scheme.S3: "aws_default",
    Scheme.GCS: "google_cloud_default",
    Scheme.AZURE: "wasb_default",
}


class ReadFailure(StorageError):
    """A read or write of one object failed; ``retryable`` says whether trying again later may help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        self.retryable = retryable
        super().__init__(message)


class AlreadyExists(StorageError):
    """A create-only write found the key taken."""


class Conflict(Exception):
    """The object changed since it was read (its version token no longer holds): read, merge and try again."""


class Storage(ABC):
    """One cloud's objects by (container, key), through one connection; subclasses implement the ``_`` methods."""

    scheme: Scheme
    where: str
    """Where this is, for messages: the cloud and the connection."""
    conn_id: str | None = None
    page_size: int = 1000
    """Objects per listing request: by default the largest the cloud serves (Azure: 5,000), fewest round trips."""

    # -- listing ----------------------------------------------------------------------------------------------

    def walk(self, source: Source, prefix: str) -> Iterator[StoredObject]:
        """Every object under ``prefix`` of ``source``'s container, in key order."""
        with self._listing(source):
            yield from self._walk(source, prefix)

    def level(self, source: Source, prefix: str) -> Iterator[StoredObject | str]:
        """The objects directly under ``prefix``, then (or among them) its sub-prefixes as strings."""
        with self._listing(source):
            yield from self._level(source, prefix)

    # -- single objects ---------------------------------------------------------------------------------------

    def read(self, container: str, key: str, start: int, length: int) -> bytes:
        """Up to ``length`` bytes from ``start`` (fewer at the end of the object)."""
        with self._errors(container, key):
            return self._read(container, key, start, length)

    def read_all(self, container: str, key: str) -> bytes:
        with self._errors(container, key):
            return self._read(container, key, 0, None)

    def metadata(self, container: str, key: str) -> dict[str, str] | None:
        """The object's user metadata, ``{}`` for none, or None when there is no such object."""
        with self._errors(container, key):
            return self._metadata(container, key)

    def write(
        self, container: str, key: str, data: bytes, content_type: str, metadata: dict[str, str], *, create_only: bool
    ) -> None:
        """Store ``data``; with ``create_only`` an existing key raises :class:`AlreadyExists` and is left as it was."""
        with self._errors(container, key):
            self._write(container, key, data, content_type, metadata, create_only)

    def signed_url(self, container: str, key: str, expires: timedelta) -> str:
        """A short-lived read URL (presigned, SAS or V4 signed) for a program that cannot use the hook."""
        with self._errors(container, key):
            return self._signed_url(container, key, expires)

    def local_path(self, container: str, key: str) -> str | None:
        """A path on this machine, for stores that have one."""
        return None

    def read_versioned(self, container: str, key: str) -> tuple[bytes | None, str | None]:
        """The content and its version token, ``(None, None)`` when absent; the token is read first.

        If the object changes between the two reads the token is older than the content, so a :meth:`swap` on
        it is refused: a race costs a retry, never an update.
        """
        with self._errors(container, key):
            return self._read_versioned(container, key)

    def swap(self, container: str, key: str, data: bytes, token: str | None) -> None:
        """Write ``data`` if the object is still at ``token`` (absent when ``None``); else :class:`Conflict`."""
        with self._errors(container, key):
            self._swap(container, key, data, token)

    # -- what each cloud implements ---------------------------------------------------------------------------

    @abstractmethod
    def _walk(self, source: Source, prefix: str) -> Iterator[StoredObject]: ...

    @abstractmethod
    def _level(self, source: Source, prefix: str) -> Iterator[StoredObject | str]: ...

    @abstractmethod
    def _read(self, container: str, key: str, start: int, length: int | None) -> bytes: ...

    @abstractmethod
    def _metadata(self, container: str, key: str) -> dict[str, str] | None: ...

    @abstractmethod
    def _write(
        self, container: str, key: str, data: bytes, content_type: str, metadata: dict[str, str], create_only: bool
    ) -> None: ...

    @abstractmethod
    def _signed_url(self, container: str, key: str, expires: timedelta) -> str: ...

    @abstractmethod
    def _read_versioned(self, container: str, key: str) -> tuple[bytes | None, str | None]: ...

    @abstractmethod
    def _swap(self, container: str, key: str, data: bytes, token: str | None) -> None: ...

    @abstractmethod
    def explain(self, error: BaseException, container: str) -> tuple[str, bool] | None:
        """(reason, retryable) for an SDK error of this cloud, or None for anything else (it propagates)."""

    # -- errors -----------------------------------------------------------------------------------------------

    def _listing(self, source: Source) -> _Explained:
        where = f"{source.uri} (connection {self.conn_id!r})" if self.conn_id else source.uri
        return _Explained(self, source.container, None, where)

    def _errors(self, container: str, key: str) -> _Explained:
        return _Explained(self, container, key, self.where)


class _Explained:
    """Turns an SDK error into one line naming the place, the connection and the fix.

    A listing's becomes ``StorageError("cannot list <url> (connection ...): <reason>")``; a single object's
    ``ReadFailure("'<key>' in <where>: <reason>", retryable=...)``. Our own errors pass through as they are.
    """

    def __init__(self, storage: Storage, container: str, key: str | None, where: str) -> None:
        self.storage = storage
        self.container = container
        self.key = key
        self.where = where

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: Any) -> None:
        if error is None or isinstance(error, (StorageError, Conflict)):
            return
        explained = self.storage.explain(error, self.container)
        if explained is None:
            return
        reason, retryable = explained
        if self.key is None:
            raise StorageError(f"cannot list {self.where}: {reason}") from error
        raise ReadFailure(f"{self.key!r} in {self.where}: {reason}", retryable=retryable) from error


def first_line(error: BaseException) -> str:
    """An SDK error as its type and the first line of its message (SDK messages run to many lines)."""
    text = str(error)
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"


def require_connection(conn_id: str) -> None:
    """Fail fast on an unknown connection id: the AWS hook would otherwise fall back to ambient credentials."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise StorageError(
            f"connection {conn_id!r} is not defined: create it under Admin > Connections "
            f"or set AIRFLOW_CONN_{conn_id.upper()}"
        ) from None


def url_prefix(source: Source) -> str | None:
    """What every object URL of ``source`` starts with, when a URL is that plus the raw key; else None.

    Built once per listing instead of once per object (the scheme enum's ``.value`` and an f-string, a tenth of
    a listing's own CPU). Checked against :meth:`Source.object_url` on awkward keys, so a change there (say,
    percent-encoding) turns this off instead of changing URLs.
    """
    prefix = source.object_url("")
    probes = ("a", "a b/ü#?%+.png", "x/")
    return prefix if all(source.object_url(key) == prefix + key for key in probes) else None


def storage_for(
    source: Source | Scheme,
    conn_id: str | None = None,
    *,
    timeout: float = 60.0,
    threads: int = 1,
    page_size: int | None = None,
) -> Storage:
    """The storage of a source's (or scheme's) cloud, through the provider hook of ``conn_id`` or the default.

    :param threads: how many threads will use it at once (S3 then keeps that many connections).
    :param page_size: objects per listing request; None for the cloud's largest page (:attr:`Storage.page_size`).
    """
    scheme = source.scheme if isinstance(source, Source) else source
    if scheme is Scheme.FILE:
        from airflow_ingest.storage.local import LocalStorage

        return LocalStorage()
    conn_id = conn_id or DEFAULT_CONN_IDS[scheme]
    require_connection(conn_id)
    if scheme is Scheme.S3:
        from airflow_ingest.storage.s3 import S3Storage

        return S3Storage(conn_id, timeout=timeout, threads=threads, page_size=page_size)
    if scheme is Scheme.GCS:
        from airflow_ingest.storage.gcs import GCSStorage

        return GCSStorage(conn_id, timeout=timeout, page_size=page_size)
    from airflow_ingest.storage.azure import AzureStorage

    return AzureStorage(conn_id, timeout=timeout, page_size=page_size)


def store_for_object(obj: StoredObject, conn_id: str | None = None) -> Storage:
    """The storage an object's URL points at (a convenience for one-off calls; reuse a storage for many objects)."""
    return storage_for(scheme_of(obj.url), conn_id)
