"""Per-cloud reads and writes of single objects by (container, key): ranged reads, create-only writes, metadata
and signed URLs, through the providers' hooks, each backend's errors turned into a reason and a retryable flag.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow_ingest.core.errors import StorageError
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.urls import Scheme, Source, scheme_of
from airflow_ingest.storage.listing import DEFAULT_CONN_IDS, require_connection


class ReadFailure(StorageError):
    """A read or write of one object failed; ``retryable`` says whether trying again later may help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        self.retryable = retryable
        super().__init__(message)


class AlreadyExists(StorageError):
    """A create-only write found the key taken."""


# -- stores ---------------------------------------------------------------------------------------------------


class MediaStore:
    """One backend's reads and writes by (container, key); subclasses translate their SDK's errors."""

    scheme: Scheme
    where: str

    def read(self, container: str, key: str, start: int, length: int) -> bytes:
        """Up to ``length`` bytes from ``start`` (fewer at the end of the object)."""
        with self._errors(key):
            return self._read(container, key, start, length)

    def read_all(self, container: str, key: str) -> bytes:
        with self._errors(key):
            return self._read(container, key, 0, None)

    def metadata(self, container: str, key: str) -> dict[str, str] | None:
        """The object's user metadata, ``{}`` for none, or None when there is no such object."""
        with self._errors(key):
            return self._metadata(container, key)

    def write(
        self, container: str, key: str, data: bytes, content_type: str, metadata: dict[str, str], *, create_only: bool
    ) -> None:
        """Store ``data``; with ``create_only`` an existing key raises :class:`AlreadyExists` and is left as it was."""
        with self._errors(key):
            self._write(container, key, data, content_type, metadata, create_only)

    def signed_url(self, container: str, key: str, expires: timedelta) -> str:
        """A short-lived read URL (presigned, SAS or V4 signed) for a program that cannot use the hook."""
        with self._errors(key):
            return self._signed_url(container, key, expires)

    def local_path(self, container: str, key: str) -> str | None:
        """A path on this machine, for stores that have one."""
        return None

    # backends implement these
    def _read(self, container: str, key: str, start: int, length: int | None) -> bytes:
        raise NotImplementedError

    def _metadata(self, container: str, key: str) -> dict[str, str] | None:
        raise NotImplementedError

    def _write(
        self, container: str, key: str, data: bytes, content_type: str, metadata: dict[str, str], create_only: bool
    ) -> None:
        raise NotImplementedError

    def _signed_url(self, container: str, key: str, expires: timedelta) -> str:
        raise NotImplementedError

    def _explain(self, error: BaseException) -> tuple[str, bool] | None:
        """(reason, retryable) for an SDK error of this backend, or None for anything else."""
        raise NotImplementedError

    def _errors(self, key: str) -> _Explain:
        return _Explain(self, key)


class _Explain:
    def __init__(self, store: MediaStore, key: str) -> None:
        self.store = store
        self.key = key

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: Any) -> None:
        if error is None or isinstance(error, StorageError):
            return
        explained = self.store._explain(error)
        if explained is not None:
            reason, retryable = explained
            raise ReadFailure(f"{self.key!r} in {self.store.where}: {reason}", retryable=retryable) from error


class S3MediaStore(MediaStore):
    scheme = Scheme.S3

    def __init__(self, conn_id: str = "aws_default") -> None:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        self.where = f"S3 (connection {conn_id!r})"
        self.hook = S3Hook(aws_conn_id=conn_id)
        self.client = self.hook.get_conn()

    def _read(self, container: str, key: str, start: int, length: int | None) -> bytes:
        extra = {"Range": f"bytes={start}-{start + length - 1}"} if length is not None else {}
        response = self.client.get_object(Bucket=container, Key=key, **extra)
        return bytes(response["Body"].read())

    def _metadata(self, container: str, key: str) -> dict[str, str] | None:
        from botocore.exceptions import ClientError

        try:
            response = self.client.head_object(Bucket=container, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return dict(response.get("Metadata") or {})

    def _write(
        self, container: str, key: str, data: bytes, content_type: str, metadata: dict[str, str], create_only: bool
    ) -> None:
        from botocore.exceptions import ClientError

        extra = {"IfNoneMatch": "*"} if create_only else {}
        try:
            self.client.put_object(
                Bucket=container, Key=key, Body=data, ContentType=content_type, Metadata=metadata, **extra
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _TAKEN:
                raise AlreadyExists(key) from None
            raise

    def _signed_url(self, container: str, key: str, expires: timedelta) -> str:
        url = self.hook.generate_presigned_url(
            "get_object", params={"Bucket": container, "Key": key}, expires_in=int(expires.total_seconds())
        )
        if not url:
            raise ReadFailure(f"{key!r} in {self.where}: the hook could not presign a URL", retryable=False)
        return url

    def _explain(self, error: BaseException) -> tuple[str, bool] | None:
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(error, ClientError):
            code = str(error.response.get("Error", {}).get("Code", ""))
            known = {
                "NoSuchKey": ("no such object (deleted or renamed since the listing?)", False),
                "404": ("no such object (deleted or renamed since the listing?)", False),
                "NoSuchBucket": ("no such bucket", False),
                "AccessDenied": ("access denied: the connection needs s3:GetObject (and s3:PutObject to write)", False),
                "403": ("access denied: the connection needs s3:GetObject (and s3:PutObject to write)", False),
                "InvalidRange": ("the object is shorter than its listed size (changed since the listing?)", False),
            }
            return known.get(code, (f"S3 answered {code or 'an error'}", True))
        if isinstance(error, BotoCoreError):
            return (f"{type(error).__name__}: {error}", True)
        return None


_TAKEN = ("PreconditionFailed", "412", "ConditionalRequestConflict")  # a create-only put found the key taken


class GCSMediaStore(MediaStore):
    scheme = Scheme.GCS

    def __init__(self, conn_id: str = "google_cloud_default", timeout: float = 60.0) -> None:
        from airflow.providers.google.cloud.hooks.gcs import GCSHook

        self.where = f"GCS (connection {conn_id!r})"
        self.hook = GCSHook(gcp_conn_id=conn_id)
        self.client = self.hook.get_conn()
        self.timeout = timeout

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
                data,
                content_type=content_type,
                if_generation_match=0 if create_only else None,
                timeout=self.timeout,
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

    def _explain(self, error: BaseException) -> tuple[str, bool] | None:
        from google.api_core import exceptions as gexc
        from google.auth.exceptions import GoogleAuthError
        from requests.exceptions import RequestException

        if isinstance(error, gexc.NotFound):
            return ("no such object or bucket (deleted or renamed since the listing?)", False)
        if isinstance(error, (gexc.Forbidden, gexc.Unauthorized)):
            return ("access denied: the connection needs storage.objects.get (and .create to write)", False)
        if isinstance(error, gexc.RequestRangeNotSatisfiable):
            return ("the object is shorter than its listed size (changed since the listing?)", False)
        if isinstance(error, (gexc.GoogleAPIError, gexc.RetryError, RequestException)):
            return (f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}", True)
        if isinstance(error, GoogleAuthError):
            return (f"no usable credentials ({error})", False)
        return None


class AzureMediaStore(MediaStore):
    scheme = Scheme.AZURE

    def __init__(self, conn_id: str = "wasb_default", timeout: float = 60.0) -> None:
        from airflow.providers.microsoft.azure.hooks.wasb import WasbHook

        self.where = f"Azure Blob (connection {conn_id!r})"
        self.hook = WasbHook(wasb_conn_id=conn_id)
        self.service = self.hook.get_conn()
        self.timeout = timeout

    def _blob(self, container: str, key: str) -> Any:
        return self.service.get_blob_client(container, key)

    def _read(self, container: str, key: str, start: int, length: int | None) -> bytes:
        blob = self._blob(container, key)
        if length is None:
            return bytes(blob.download_blob(timeout=self.timeout).readall())
        return bytes(blob.download_blob(offset=start, length=length, timeout=self.timeout).readall())

    def _metadata(self, container: str, key: str) -> dict[str, str] | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            properties = self._blob(container, key).get_blob_properties(timeout=self.timeout)
        except ResourceNotFoundError:
            return None
        return dict(properties.metadata or {})

    def _write(
        self, container: str, key: str, data: bytes, content_type: str, metadata: dict[str, str], create_only: bool
    ) -> None:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import ContentSettings

        try:
            self._blob(container, key).upload_blob(
                data,
                overwrite=not create_only,
                metadata=metadata,
                content_settings=ContentSettings(content_type=content_type),
                timeout=self.timeout,
            )
        except ResourceExistsError:
            raise AlreadyExists(key) from None

    def _signed_url(self, container: str, key: str, expires: timedelta) -> str:
        from datetime import datetime, timezone

        from azure.storage.blob import BlobSasPermissions, generate_blob_sas

        account_key = getattr(self.service.credential, "account_key", None)
        if not account_key:
            raise ReadFailure(
                f"{key!r} in {self.where}: a SAS needs the account key in the connection (or video_access='proxy')",
                retryable=False,
            )
        sas = generate_blob_sas(
            account_name=str(self.service.account_name),
            container_name=container,
            blob_name=key,
            account_key=account_key,
            permission=BlobSasPermissions(read=True),
            expiry=datetime.now(timezone.utc) + expires,
        )
        return f"{self._blob(container, key).url}?{sas}"

    def _explain(self, error: BaseException) -> tuple[str, bool] | None:
        from azure.core import exceptions as aexc

        if isinstance(error, aexc.ResourceNotFoundError):
            return ("no such blob or container (deleted or renamed since the listing?)", False)
        refused = isinstance(error, aexc.ClientAuthenticationError) or (
            isinstance(error, aexc.HttpResponseError) and error.status_code in (401, 403)
        )
        if refused:
            return ("the storage account refused the credentials or the permission (read, and write to write)", False)
        if isinstance(error, aexc.HttpResponseError) and error.status_code == 416:
            return ("the blob is shorter than its listed size (changed since the listing?)", False)
        if isinstance(error, aexc.AzureError):
            return (f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}", True)
        return None


class LocalMediaStore(MediaStore):
    """A folder on this machine (``file://``): the container is the folder; metadata lives in user xattrs."""

    scheme = Scheme.FILE
    where = "local files"

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

    def _explain(self, error: BaseException) -> tuple[str, bool] | None:
        if isinstance(error, FileNotFoundError):
            return ("no such file (deleted or renamed since the listing?)", False)
        if isinstance(error, PermissionError):
            return ("permission denied", False)
        if isinstance(error, OSError):
            return (f"{type(error).__name__}: {error}", True)
        return None


def media_store_for(source: Source | Scheme, conn_id: str | None = None) -> MediaStore:
    """The store for a source's scheme, through the provider hook of ``conn_id`` (or the scheme's default)."""
    scheme = source.scheme if isinstance(source, Source) else source
    if scheme is Scheme.FILE:
        return LocalMediaStore()
    conn_id = conn_id or DEFAULT_CONN_IDS[scheme]
    require_connection(conn_id)
    if scheme is Scheme.S3:
        return S3MediaStore(conn_id)
    if scheme is Scheme.GCS:
        return GCSMediaStore(conn_id)
    return AzureMediaStore(conn_id)


def store_for_object(obj: StoredObject, conn_id: str | None = None) -> MediaStore:
    """The store an object's URL points at (a convenience for one-off calls; reuse a store for many objects)."""
    return media_store_for(scheme_of(obj.url), conn_id)
