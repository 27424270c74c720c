"""GCS through ``GCSHook``'s credentials: listing, ranged reads, writes, V4 signing, the ledger's compare-and-swap
(``ifGenerationMatch``), and GCS's errors explained once for all of them.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.urls import Scheme, Source
from airflow_ingest.storage.base import AlreadyExists, Conflict, ReadFailure, Storage, first_line, url_prefix


class GCSStorage(Storage):
    scheme = Scheme.GCS

    def __init__(self, conn_id: str, *, timeout: float = 60.0, page_size: int | None = None) -> None:
        from airflow.providers.google.cloud.hooks.gcs import GCSHook
        from google.api_core.retry import Retry

        self.conn_id = conn_id
        self.where = f"GCS (connection {conn_id!r})"
        self.hook = GCSHook(gcp_conn_id=conn_id)
        self.page_size = page_size or self.page_size
        self.timeout = timeout
        self.retry = Retry(timeout=timeout)

    @property
    def client(self) -> Any:
        """The library's client, made on first use (making it checks the credentials, which may fail: explained)."""
        if not hasattr(self, "_client"):
            self._client = self.hook.get_conn()
        return self._client

    # -- listing ----------------------------------------------------------------------------------------------

    def _walk(self, source: Source, prefix: str) -> Iterator[StoredObject]:
        yield from map(self._maker(source), self._blobs(source, prefix, None))

    def _level(self, source: Source, prefix: str) -> Iterator[StoredObject | str]:
        blobs = self._blobs(source, prefix, "/")
        yield from map(self._maker(source), blobs)
        yield from sorted(blobs.prefixes)

    def _blobs(self, source: Source, prefix: str, delimiter: str | None) -> Any:
        return self.client.list_blobs(
            source.container,
            prefix=prefix,
            delimiter=delimiter,
            page_size=self.page_size,
            timeout=self.timeout,
            retry=self.retry,
        )

    @staticmethod
    def _maker(source: Source) -> Any:
        """A blob to an object, read from the listing's JSON resource (``blob._properties``) the properties wrap.

        ``blob.md5_hash``, ``.etag``, ``.size`` and ``.content_type`` are each a property over that dict; reading
        it once, with the URL prefix built once per listing and positional arguments, is a third of this
        function's time. The values are the properties' own (``size`` as ``int``, ``None`` for no content type).
        """
        container = source.container
        prefix = url_prefix(source)
        object_url = source.object_url

        def make(blob: Any) -> StoredObject:
            props = getattr(blob, "_properties", None)
            if props.__class__ is not dict:  # not the library's Blob as we know it: through its properties
                props = {
                    "md5Hash": blob.md5_hash,
                    "etag": blob.etag,
                    "size": blob.size,
                    "contentType": blob.content_type,
                }
            name = blob.name
            md5 = props.get("md5Hash")  # type: ignore[union-attr]
            etag = base64.b64decode(md5).hex() if md5 else str(props.get("etag") or "")  # type: ignore[union-attr]
            size = props.get("size")  # type: ignore[union-attr]
            url = prefix + name if prefix is not None else object_url(name)
            content_type = props.get("contentType")  # type: ignore[union-attr]
            return StoredObject(
                url, container, name, int(size) if size is not None else 0, etag, blob_updated(blob), content_type
            )

        return make

    # -- single objects ---------------------------------------------------------------------------------------

    def _blob(self, container: str, key: str) -> Any:
        return self.client.bucket(container).blob(key)

    def _read(self, container: str, key: str, start: int, length: int | None) -> bytes:
        blob = self._blob(container, key)
        if length is None:
            return bytes(blob.download_as_bytes(timeout=self.timeout))
        end = start + length - 1  # inclusive, as the library counts
        return bytes(blob.download_as_bytes(start=start, end=end, checksum=None, timeout=self.timeout))

    def _metadata(self, container: str, key: str) -> dict[str, str] | None:
        blob = self.client.bucket(container).get_blob(key, timeout=self.timeout)
        return None if blob is None else dict(blob.metadata or {})

    def _write(
        self, container: str, key: str, data: bytes, content_type: str, metadata: dict[str, str], create_only: bool
    ) -> None:
        from google.api_core.exceptions import PreconditionFailed

        blob = self._blob(container, key)
        blob.metadata = metadata
        try:
            blob.upload_from_string(
                data, content_type=content_type, if_generation_match=0 if create_only else None, timeout=self.timeout
            )
        except PreconditionFailed:
            raise AlreadyExists(key) from None

    def _signed_url(self, container: str, key: str, expires: timedelta) -> str:
        try:
            return str(self._blob(container, key).generate_signed_url(version="v4", expiration=expires, method="GET"))
        except AttributeError:  # anonymous or token-only credentials cannot sign
            raise ReadFailure(
                f"{key!r} in {self.where}: these credentials cannot sign URLs (use a service-account key, "
                "or video_access='proxy')",
                retryable=False,
            ) from None

    def _read_versioned(self, container: str, key: str) -> tuple[bytes | None, str | None]:
        blob = self.client.bucket(container).get_blob(key, timeout=self.timeout)
        if blob is None:
            return None, None
        generation = str(blob.generation)  # before the download, which resets it from the answer's headers
        return bytes(blob.download_as_bytes(timeout=self.timeout)), generation

    def _swap(self, container: str, key: str, data: bytes, token: str | None) -> None:
        from google.api_core.exceptions import PreconditionFailed

        try:
            self._blob(container, key).upload_from_string(
                data, if_generation_match=int(token) if token else 0, timeout=self.timeout
            )
        except PreconditionFailed:
            raise Conflict(key) from None

    def explain(self, error: BaseException, container: str) -> tuple[str, bool] | None:
        from google.api_core import exceptions as gexc
        from google.auth.exceptions import GoogleAuthError
        from requests.exceptions import RequestException

        if isinstance(error, gexc.NotFound):
            return (f"no such object, or bucket {container!r} does not exist", False)
        if isinstance(error, (gexc.Forbidden, gexc.Unauthorized)):
            return (
                "access denied: the connection's credentials need storage.objects.list to list, storage.objects.get "
                "to read (and storage.objects.create to write)",
                False,
            )
        if isinstance(error, gexc.RequestRangeNotSatisfiable):
            return ("the object is shorter than its listed size (changed since the listing?)", False)
        if isinstance(error, GoogleAuthError):
            return (
                "no usable credentials: give the connection a key file or keyfile_dict, or set extra "
                f"is_anonymous=true for an emulator or a public bucket ({error})",
                False,
            )
        if isinstance(error, (gexc.RetryError, RequestException)):
            emulator = os.environ.get("STORAGE_EMULATOR_HOST")
            target = f"the emulator at {emulator}" if emulator else "storage.googleapis.com"
            hint = "" if emulator else "; for an emulator set STORAGE_EMULATOR_HOST in every Airflow process"
            return (f"could not reach {target} within {self.timeout:g} s ({first_line(error)}){hint}", True)
        if isinstance(error, gexc.GoogleAPIError):
            return (first_line(error), True)
        return None


def blob_updated(blob: Any) -> datetime:
    """A GCS blob's ``updated`` time, read with ``datetime.fromisoformat`` from the listing's RFC 3339 text.

    ``blob.updated`` parses it with ``strptime`` (half a listing's CPU); the value is the same. Any text
    ``fromisoformat`` cannot read goes the library's way.
    """
    text = (getattr(blob, "_properties", None) or {}).get("updated")
    if isinstance(text, str):
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    return blob.updated  # type: ignore[no-any-return]
