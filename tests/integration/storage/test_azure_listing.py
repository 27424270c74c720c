"""The lean List Blobs read (airflow_ingest/storage/azure_listing.py) gives what the SDK's listing gives.

Against Azurite, over its HTTP API: every field a ``StoredObject`` takes, in the SDK's order, for flat and
delimited listings, across pages, for names with spaces, ``%``, ``+``, Unicode, dot and slash runs, and for
any name hypothesis draws. Azurite cannot list a control character (Azure sends such a name URL-encoded with
``Encoded="true"``), so that case is a written body. A page the read does not vouch for goes to the SDK, whose
errors are explained as before.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.harness import Azurite

CONTAINER = "lean-listing"
NAMES = [
    "plain.jpg",
    "with space.png",
    "100%.png",
    "plus+sign.png",
    "%20already%2Fencoded.png",
    "ünïcødé/名前 🙂.png",
    "tab\tkey.png",
    "/leading.jpg",
    "a//b.jpg",
    "trailing/",
    "deep/a/b/c.dcm",
    "deep/a/d.dcm",
    "deep/e.dcm",
    "amp&lt;.png",
]


@pytest.fixture(scope="module")
def container(azurite: Azurite) -> Iterator[Any]:
    from azure.storage.blob import BlobServiceClient, ContentSettings

    os.environ["AIRFLOW_CONN_WASB_LEAN"] = azurite.conn()
    client = BlobServiceClient.from_connection_string(azurite.connection_string).get_container_client(CONTAINER)
    client.create_container()
    for index, name in enumerate(NAMES):
        settings = ContentSettings(content_type="image/png") if index % 2 else ContentSettings(content_type="")
        client.upload_blob(name, b"x" * index, overwrite=True, content_settings=settings)
    yield client
    del os.environ["AIRFLOW_CONN_WASB_LEAN"]


def storage(page_size: int) -> Any:
    from airflow_ingest.storage.azure import AzureStorage

    return AzureStorage("wasb_lean", page_size=page_size)


def sdk_listing(client: Any, prefix: str, delimiter: str | None, page_size: int = 1000) -> list[Any]:
    """The SDK's listing, in the form the lean read gives; a delimited page lists its prefixes first."""
    from azure.storage.blob import BlobPrefix

    from airflow_ingest.storage.azure_listing import sdk_fields

    kwargs: dict[str, Any] = {"name_starts_with": prefix or None, "results_per_page": page_size}
    paged = client.list_blobs(**kwargs) if delimiter is None else client.walk_blobs(delimiter=delimiter, **kwargs)
    return [
        str(blob.name) if isinstance(blob, BlobPrefix) else sdk_fields(blob)
        for page in paged.by_page()
        for blob in page
    ]


def fields(entry: Any) -> Any:
    return (
        entry
        if isinstance(entry, str)
        else (entry.key, entry.size, entry.etag, entry.last_modified, entry.content_type)
    )


def lean_listing(prefix: str, delimiter: str | None, page_size: int) -> list[Any]:
    from airflow_ingest.core.urls import parse_source

    source = parse_source(f"az://{CONTAINER}/")
    walked = storage(page_size).walk(source, prefix) if delimiter is None else storage(page_size).level(source, prefix)
    return [fields(entry) for entry in walked]


@pytest.fixture
def lean_reads(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each page was read lean (True) or handed to the SDK (False)."""
    from airflow_ingest.storage import azure, azure_listing

    reads: list[bool] = []
    real = azure_listing.lean_page

    def counted(*args: Any) -> Any:
        page = real(*args)
        reads.append(page is not None)
        return page

    monkeypatch.setattr(azure, "lean_page", counted)
    return reads


@pytest.mark.parametrize("page_size", [1000, 3])
@pytest.mark.parametrize(("prefix", "delimiter"), [("", None), ("deep/", None), ("", "/"), ("deep/", "/")])
def test_the_lean_read_gives_the_sdks_listing(
    container: Any, lean_reads: list[bool], prefix: str, delimiter: str | None, page_size: int
) -> None:
    expected = sdk_listing(container, prefix, delimiter, page_size)
    assert lean_listing(prefix, delimiter, page_size) == expected
    assert lean_reads and all(lean_reads), "every page was read lean"
    if not prefix and delimiter is None:
        assert {entry[0] for entry in expected} == set(NAMES), "every name comes back exactly"
        assert len({entry[4] for entry in expected}) == 2, "two content types, as uploaded"


def test_a_name_sent_encoded_is_decoded_as_the_sdk_decodes_it() -> None:
    """Azure URL-encodes a name XML cannot carry (control characters) and marks it; Azurite never does."""
    from airflow_ingest.storage.azure_listing import _read

    body = (
        b'<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="x" ContainerName="c">'
        b'<Blobs><Blob><Name Encoded="true">ctl%01key%2B.png</Name><Properties>'
        b"<Last-Modified>Sat, 05 Dec 2026 13:00:00 GMT</Last-Modified><Etag>0x8DD</Etag>"
        b"<Content-Length>7</Content-Length><Content-Type /><Content-MD5 /></Properties></Blob>"
        b'<BlobPrefix><Name Encoded="true">dir%0A/</Name></BlobPrefix></Blobs><NextMarker /></EnumerationResults>'
    )
    page = _read(body)
    assert page is not None
    entries, marker = page
    assert marker == ""
    assert entries[0] == "dir\n/"
    name, size, etag, modified, content_type = entries[1]  # type: ignore[misc]
    assert (name, size, etag, content_type) == ("ctl\x01key+.png", 7, "0x8DD", None)
    assert modified.isoformat() == "2026-12-05T13:00:00+00:00"


def test_a_page_the_read_does_not_vouch_for_goes_to_the_sdk(container: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A body the read refuses on the second page: the SDK lists from that page's marker on, nothing lost."""
    from airflow_ingest.storage import azure_listing

    real = azure_listing._read
    calls: list[int] = []

    def refuse_second(body: bytes) -> Any:
        calls.append(1)
        return None if len(calls) == 2 else real(body)

    monkeypatch.setattr(azure_listing, "_read", refuse_second)
    assert lean_listing("", None, 3) == sdk_listing(container, "", None, 3)
    assert len(calls) == 2


def test_by_default_a_page_is_the_largest_azure_serves(container: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """5,000 blobs a request, as the SDK's own default: a fifth of the round trips of S3's 1,000."""
    from airflow_ingest.core.urls import parse_source
    from airflow_ingest.storage import azure_listing
    from airflow_ingest.storage.base import storage_for

    sent: list[dict[str, str]] = []
    real = azure_listing.urlencode

    def recorded(params: dict[str, str], **kwargs: Any) -> str:
        sent.append(dict(params))
        return real(params, **kwargs)

    monkeypatch.setattr(azure_listing, "urlencode", recorded)
    source = parse_source(f"az://{container.container_name}/")
    assert list(storage_for(source, "wasb_lean").walk(source, ""))
    assert [params["maxresults"] for params in sent] == ["5000"]


def test_a_missing_container_is_explained_as_before(container: Any) -> None:
    from airflow_ingest.core.errors import StorageError
    from airflow_ingest.core.urls import parse_source

    with pytest.raises(StorageError, match="does not exist"):
        list(storage(1000).walk(parse_source("az://no-such-container/"), ""))


# Azurite answers a listing holding a control character with a 500 (Azure encodes it: the test above).
NAME_CHARS = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\\")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.text(NAME_CHARS, min_size=1, max_size=40), min_size=1, max_size=6, unique=True))
def test_any_name_azurite_keeps_is_listed_as_the_sdk_lists_it(azurite: Azurite, names: list[str]) -> None:
    from azure.core.exceptions import HttpResponseError
    from azure.storage.blob import BlobServiceClient

    client = BlobServiceClient.from_connection_string(azurite.connection_string).get_container_client("lean-hypo")
    with contextlib.suppress(HttpResponseError):
        client.create_container()
    for blob in client.list_blobs():
        client.delete_blob(blob.name)
    for name in names:
        with contextlib.suppress(HttpResponseError, ValueError):  # a name Azurite refuses is not listed by either
            client.upload_blob(name, name.encode(), overwrite=True)
    from airflow_ingest.core.urls import parse_source

    os.environ["AIRFLOW_CONN_WASB_LEAN"] = azurite.conn()
    walked = [fields(o) for o in storage(2).walk(parse_source("az://lean-hypo/"), "")]
    assert walked == sdk_listing(client, "", None)
