"""Azure Blob through ``WasbHook``'s client: listing, ranged reads, writes, SAS signing, the ledger's
compare-and-swap (``If-Match`` / create without overwrite), and Azure's errors explained once for all of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.urls import Scheme, Source
from airflow_ingest.storage.azure_listing import lean_page, sdk_fields
from airflow_ingest.storage.base import (
    AlreadyExists,
    Conflict,
    ReadFailure,
    Storage,
    first_line,
    require_connection,
    url_prefix,
)


class AzureStorage(Storage):
    scheme = Scheme.AZURE
    page_size = 5000

    def __init__(self, conn_id: str, *, timeout: float = 60.0, page_size: int | None = None) -> None:
        from airflow.providers.microsoft.azure.hooks.wasb import WasbHook

        self.conn_id = conn_id
        self.where = f"Azure Blob (connection {conn_id!r})"
        self.hook = WasbHook(wasb_conn_id=conn_id)
        self.page_size = page_size or self.page_size
        self.timeout = timeout

    @property
    def service(self) -> Any:
        """The ``BlobServiceClient``, made on first use (a bad connection string fails here: explained)."""
        if not hasattr(self, "_service"):
            self._service = self.hook.get_conn()
        return self._service

    # -- listing ----------------------------------------------------------------------------------------------

    def _walk(self, source: Source, prefix: str) -> Iterator[StoredObject]:
        return self._list(source, prefix, None)  # type: ignore[return-value]

    def _level(self, source: Source, prefix: str) -> Iterator[StoredObject | str]:
        return self._list(source, prefix, "/")

    def _list(self, source: Source, prefix: str, delimiter: str | None) -> Iterator[StoredObject | str]:
        """Pages read from List Blobs' XML, sent through the SDK's own pipeline (its credentials, signing and
        retries) but without its model deserializer, which costs several times the request.

        A page that is not a 200 the lean read vouches for is asked again, from the same marker, of
        ``list_blobs`` / ``walk_blobs``, which then give their result or their error (explained as usual).
        tests/integration/storage/test_azure_listing.py holds the lean read to them.
        """
        from azure.storage.blob import BlobPrefix

        container = self.service.get_container_client(source.container)
        make = self._maker(source)
        marker: str | None = ""
        while marker is not None:
            page = lean_page(container, prefix, delimiter, marker, self.page_size, self.timeout)
            if page is None:
                break
            entries, marker = page
            for entry in entries:
                yield entry if isinstance(entry, str) else make(*entry)
            if not marker:
                return
        kwargs: dict[str, Any] = {"name_starts_with": prefix or None, "results_per_page": self.page_size}
        if delimiter is None:
            paged = container.list_blobs(timeout=self.timeout, **kwargs)
        else:
            paged = container.walk_blobs(delimiter=delimiter, timeout=self.timeout, **kwargs)
        for page in paged.by_page(continuation_token=marker or None):
            for blob in page:
                yield str(blob.name) if isinstance(blob, BlobPrefix) else make(*sdk_fields(blob))

    @staticmethod
    def _maker(source: Source) -> Any:
        container = source.container
        prefix = url_prefix(source)
        object_url = source.object_url

        def make(name: str, size: int, etag: str, modified: datetime, content_type: str | None) -> StoredObject:
            url = prefix + name if prefix is not None else object_url(name)
            return StoredObject(url, container, name, size, etag, modified, content_type)

        return make

    # -- single objects ---------------------------------------------------------------------------------------

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

    def _read_versioned(self, container: str, key: str) -> tuple[bytes | None, str | None]:
        from azure.core.exceptions import ResourceNotFoundError

        try:  # one download carries both, so the token is the content's own
            download = self._blob(container, key).download_blob(timeout=self.timeout)
        except ResourceNotFoundError:
            return None, None
        return bytes(download.readall()), str(download.properties.etag)

    def _swap(self, container: str, key: str, data: bytes, token: str | None) -> None:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError

        condition: dict[str, Any] = {"overwrite": False}
        if token is not None:
            condition = {"overwrite": True, "etag": token, "match_condition": MatchConditions.IfNotModified}
        try:
            self._blob(container, key).upload_blob(data, timeout=self.timeout, **condition)
        except (ResourceExistsError, ResourceModifiedError):
            raise Conflict(key) from None

    def explain(self, error: BaseException, container: str) -> tuple[str, bool] | None:
        from azure.core import exceptions as aexc

        if isinstance(error, aexc.ResourceNotFoundError):
            return (f"no such blob, or container {container!r} does not exist in this storage account", False)
        refused = isinstance(error, aexc.ClientAuthenticationError) or (
            isinstance(error, aexc.HttpResponseError) and error.status_code in (401, 403)
        )
        if refused:
            return (
                "the storage account refused the credentials or the permission (list, read, and write to write); "
                "check the connection's key or SAS token",
                False,
            )
        if isinstance(error, aexc.HttpResponseError) and error.status_code == 416:
            return ("the blob is shorter than its listed size (changed since the listing?)", False)
        if isinstance(error, aexc.ServiceRequestError):
            return (f"could not reach the storage account ({error}); check the connection's host or account", True)
        if isinstance(error, aexc.AzureError):
            return (first_line(error), True)
        if isinstance(error, ValueError):  # the SDK's answer to a malformed connection string or account URL
            return (f"the connection's settings are not usable ({first_line(error)})", False)
        return None


def azure_account_name(conn_id: str = "wasb_default") -> str:
    """The storage account a ``wasb`` connection points at, for ``https://{account}.blob.core.windows.net``."""
    from airflow.providers.microsoft.azure.hooks.wasb import WasbHook

    require_connection(conn_id)
    return str(WasbHook(wasb_conn_id=conn_id).get_conn().account_name)
