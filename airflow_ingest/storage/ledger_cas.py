"""Compare-and-swap of one small object (a ledger's ``HEAD.json``) on every storage a ledger can live on.

Two commits to one ledger at the same moment each read the head, merge and write: with a plain overwrite the
later one drops the other's entries, silently. Each backend offers a conditional write, so the head is only
replaced if it is still the version that was read, and otherwise the commit reads again and merges again:

- S3 (s3fs): ``If-None-Match: *`` to create, ``If-Match: <ETag>`` to replace; 412 on conflict.
- GCS (gcsfs): ``ifGenerationMatch=0`` to create, ``ifGenerationMatch=<generation>`` to replace; 412.
- Azure Blob (adlfs): create without overwrite, or ``If-Match: <ETag>`` (``MatchConditions.IfNotModified``).
- A local folder: an exclusive ``flock`` on ``HEAD.json.lock`` around compare-then-rename (POSIX hosts; the
  lock holds between processes of one host, and on NFS only where the server supports locks).

The version token is read *before* the content: if the object changes in between, the token is older than
the content and the write is refused, so a race costs a retry, never an update.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from airflow_ingest.core.ledger import LedgerError


class Conflict(Exception):
    """The object changed since it was read: read, merge and try again."""


class VersionedObject:
    """One object read with a version token and replaced only if the token still holds."""

    def __init__(self, path: Any) -> None:
        self.path = path
        self.fs = path.fs
        self.key = path.path
        protocols = self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        self.kind = next((kind for kind in ("s3", "gcs", "abfs", "file") if kind in protocols), "")
        if "gs" in protocols:
            self.kind = "gcs"
        if not self.kind:
            raise LedgerError(
                f"a ledger on {protocols[0]}:// cannot be committed safely (no conditional write): give a state on "
                "s3://, gs://, abfs:// or a local folder"
            )

    def read(self) -> tuple[bytes | None, str | None]:
        """The content and its version token; ``(None, None)`` when the object does not exist."""
        if self.kind == "file":
            try:
                data = Path(self.key).read_bytes()
            except FileNotFoundError:
                return None, None
            return data, hashlib.sha256(data).hexdigest()
        self.fs.invalidate_cache(self.key)
        try:
            info = self.fs.info(self.key)
            token = {"s3": "ETag", "gcs": "generation", "abfs": "etag"}[self.kind]
            version = str(info[token])
            data = self.fs.cat_file(self.key)
        except FileNotFoundError:
            return None, None
        return bytes(data), version

    def swap(self, data: bytes, token: str | None) -> None:
        """Write ``data`` if the object is still at ``token`` (absent when ``None``); else :class:`Conflict`."""
        writer = {"s3": self._s3, "gcs": self._gcs, "abfs": self._azure, "file": self._local}[self.kind]
        writer(data, token)
        if self.kind != "file":
            self.fs.invalidate_cache(self.key)

    def _s3(self, data: bytes, token: str | None) -> None:
        try:
            if token is None:
                self.fs.pipe_file(self.key, data, mode="create")
            else:
                self.fs.pipe_file(self.key, data, IfMatch=token)
        except FileExistsError:
            raise Conflict(self.key) from None
        except OSError as error:  # s3fs turns 412 PreconditionFailed into OSError(EINVAL)
            cause = getattr(error.__cause__, "response", None) or {}
            if error.errno == errno.EINVAL and cause.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
                raise Conflict(self.key) from None
            if error.errno == errno.EINVAL and "pre-condition" in str(error):
                raise Conflict(self.key) from None
            raise

    def _gcs(self, data: bytes, token: str | None) -> None:
        from urllib.parse import quote

        bucket, key, _ = self.fs.split_path(self.key)
        try:  # gcsfs's own pipe only knows ifGenerationMatch=0: the same upload, with the generation
            self.fs.call(
                "POST",
                f"{self.fs._location}/upload/storage/v1/b/{quote(bucket)}/o",
                uploadType="media",
                name=key,
                ifGenerationMatch=token or "0",
                data=data,
                json_out=True,
            )
        except FileExistsError:  # gcsfs's answer to 412 Precondition Failed
            raise Conflict(self.key) from None

    def _azure(self, data: bytes, token: str | None) -> None:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError

        try:
            if token is None:
                self.fs.pipe_file(self.key, data, overwrite=False)
            else:
                self.fs.pipe_file(self.key, data, etag=token, match_condition=MatchConditions.IfNotModified)
        except (FileExistsError, ResourceModifiedError):
            raise Conflict(self.key) from None

    def _local(self, data: bytes, token: str | None) -> None:
        import fcntl

        target = Path(self.key)
        with open(target.with_name(target.name + ".lock"), "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                current = target.read_bytes()
            except FileNotFoundError:
                current = None
            if (None if current is None else hashlib.sha256(current).hexdigest()) != token:
                raise Conflict(self.key)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".HEAD-", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
