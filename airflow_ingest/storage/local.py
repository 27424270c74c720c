"""A folder on this machine (``file://``) as a bucket: keys are ``/``-separated paths below it, in key order.

The container is the folder. Metadata lives in user xattrs. The ledger's compare-and-swap is an exclusive
``flock`` on ``<file>.lock`` around compare-then-rename (POSIX hosts; the lock holds between processes of one
host, and on NFS only where the server supports locks).
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import os
import stat
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from airflow_ingest.core.errors import StorageError
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.urls import Scheme, Source
from airflow_ingest.storage.base import AlreadyExists, Conflict, ReadFailure, Storage

log = logging.getLogger(__name__)


class LocalStorage(Storage):
    scheme = Scheme.FILE
    where = "local files"

    # -- listing ----------------------------------------------------------------------------------------------

    def _walk(self, source: Source, prefix: str) -> Iterator[StoredObject]:
        for entry in self._level(source, prefix):
            if isinstance(entry, str):
                yield from self._walk(source, entry)
            else:
                yield entry

    def _level(self, source: Source, prefix: str) -> Iterator[StoredObject | str]:
        root = require_folder(source)
        folder = root / prefix if prefix else root
        try:
            with os.scandir(folder) as scan:
                entries = [(e.name + ("/" if e.is_dir(follow_symlinks=False) else ""), e) for e in scan]
        except OSError as error:
            raise StorageError(f"cannot list {source.uri}: {error.strerror} ({folder})") from error
        for name, entry in sorted(entries, key=lambda pair: pair[0]):
            key = prefix + name
            if not name.isascii():
                _require_utf8(name, folder, source.uri)
            if name.endswith("/"):
                yield key
                continue
            try:
                info = entry.stat()
            except OSError as error:  # a dangling symlink, a file removed mid-listing: that file only
                log.warning(
                    "Skipped %s: it cannot be read (%s; a dangling symlink?)", source.object_url(key), error.strerror
                )
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            yield StoredObject(
                url=source.object_url(key),
                container=source.container,
                key=key,
                size=info.st_size,
                etag=f"{info.st_mtime_ns:x}-{info.st_size:x}",
                last_modified=datetime.fromtimestamp(info.st_mtime, tz=timezone.utc),
                content_type=mimetypes.guess_type(name)[0],
            )

    # -- single objects ---------------------------------------------------------------------------------------

    def _path(self, container: str, key: str) -> Path:
        """The file for ``key``, refusing any key (or template result) that would climb out of the folder."""
        root = Path(container).resolve()
        path = (root / key).resolve()
        if not path.is_relative_to(root):
            raise ReadFailure(f"{key!r} leads outside {root}: refused", retryable=False)
        return path

    def _read(self, container: str, key: str, start: int, length: int | None) -> bytes:
        with self._path(container, key).open("rb") as stream:
            stream.seek(start)
            return stream.read() if length is None else stream.read(length)

    def _metadata(self, container: str, key: str) -> dict[str, str] | None:
        path = self._path(container, key)
        if not path.exists():
            return None
        try:
            names = os.listxattr(path)
        except OSError:  # a filesystem without user xattrs: no metadata, so nothing counts as ours
            return {}
        prefix = "user."
        return {n[len(prefix) :]: os.getxattr(path, n).decode() for n in names if n.startswith(prefix)}

    def _write(
        self, container: str, key: str, data: bytes, content_type: str, metadata: dict[str, str], create_only: bool
    ) -> None:
        path = self._path(container, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("xb" if create_only else "wb") as out:
                out.write(data)
        except FileExistsError:
            raise AlreadyExists(key) from None
        for name, value in metadata.items():
            os.setxattr(path, f"user.{name}", value.encode())

    def _signed_url(self, container: str, key: str, expires: timedelta) -> str:
        return str(self._path(container, key))

    def local_path(self, container: str, key: str) -> str | None:
        return str(self._path(container, key))

    def _read_versioned(self, container: str, key: str) -> tuple[bytes | None, str | None]:
        try:
            data = self._path(container, key).read_bytes()
        except FileNotFoundError:
            return None, None
        return data, hashlib.sha256(data).hexdigest()

    def _swap(self, container: str, key: str, data: bytes, token: str | None) -> None:
        import fcntl

        target = self._path(container, key)
        with open(target.with_name(target.name + ".lock"), "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            _, version = self._read_versioned(container, key)
            if version != token:
                raise Conflict(key)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}-", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise

    def explain(self, error: BaseException, container: str) -> tuple[str, bool] | None:
        if isinstance(error, FileNotFoundError):
            return ("no such file (deleted or renamed since the listing?)", False)
        if isinstance(error, PermissionError):
            return ("permission denied", False)
        if isinstance(error, OSError):
            return (f"{type(error).__name__}: {error}", True)
        return None


def require_folder(source: Source) -> Path:
    """The source's folder, or a :class:`StorageError` saying it is not one (before anything is listed)."""
    root = Path(source.container)
    if not root.is_dir():
        raise StorageError(f"cannot list {source.uri}: {root} is not a folder on this machine")
    return root


def _require_utf8(name: str, folder: Path, where: str) -> None:
    """Refuse a file name that is not UTF-8: no bucket or platform can hold it as a key, and JSON cannot carry it."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raw = os.fsencode(name)
        raise StorageError(
            f"cannot list {where}: the file name {raw!r} in {folder} is not UTF-8; rename it (keys must be UTF-8)"
        ) from None
