"""One page of Azure's List Blobs, read from its XML as the SDK's ``list_blobs`` / ``walk_blobs`` read it.

The request goes through the container client's own pipeline, so the connection's credentials, signing, API
version and retries are the SDK's; only the reading differs: ElementTree and five fields per blob, where the
SDK's generic model deserializer visits every property of every blob in Python. What this reading does not
vouch for (not a 200, not the layout the service documents) returns None, and the caller asks the SDK.
"""

from __future__ import annotations

import base64
import functools
import gc
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, unquote, urlencode
from xml.etree import ElementTree

Fields = tuple[str, int, str, datetime, "str | None"]
"""What a listed blob gives a ``StoredObject``: name, size, etag (the MD5 in hex where Azure has one), last
modified, content type."""


def lean_page(
    container: Any, prefix: str, delimiter: str | None, marker: str, page_size: int, timeout: float
) -> tuple[list[Fields | str], str] | None:
    """The entries of the page at ``marker`` (a blob's fields, or a sub-prefix's name) and the next marker."""
    from azure.core.rest import HttpRequest

    pipeline = getattr(getattr(container, "_client", None), "_client", None)
    if not hasattr(pipeline, "send_request"):  # the SDK's internals moved: its own listing
        return None
    params = {"restype": "container", "comp": "list", "maxresults": str(page_size), "timeout": str(int(timeout))}
    for name, value in (("prefix", prefix), ("delimiter", delimiter), ("marker", marker)):
        if value:
            params[name] = value
    url = container.url  # may carry a SAS query already; every value quoted whole, as the SDK's serializer does
    url += ("&" if "?" in url else "?") + urlencode(params, quote_via=quote, safe="")
    request = HttpRequest("GET", url, headers={"x-ms-version": container.api_version})
    response = pipeline.send_request(request)  # type: ignore[union-attr]
    if response.status_code != 200:
        return None
    try:
        return _read(response.content)
    except (ElementTree.ParseError, ValueError, TypeError, AttributeError):
        return None


def _read(body: bytes) -> tuple[list[Fields | str], str] | None:
    root = _parse(body)
    blobs = root.find("Blobs")
    if root.tag != "EnumerationResults" or blobs is None:
        return None
    prefixes: list[Fields | str] = []  # first, then the blobs: the SDK's order within a page
    entries: list[Fields | str] = []
    for entry in blobs:
        name_node = entry.find("Name")
        if name_node is None or name_node.text is None:
            return None
        name = unquote(name_node.text) if name_node.get("Encoded") == "true" else name_node.text
        if entry.tag == "BlobPrefix":
            prefixes.append(name)
            continue
        props = entry.find("Properties")
        if entry.tag != "Blob" or props is None:
            return None
        md5 = props.findtext("Content-MD5")
        etag = base64.b64decode(md5).hex() if md5 else (props.findtext("Etag") or "").strip('"')
        size = int(props.findtext("Content-Length") or "")
        modified = _modified(props.findtext("Last-Modified") or "")
        entries.append((name, size, etag, modified, props.findtext("Content-Type") or None))
    return prefixes + entries, root.findtext("NextMarker") or ""


def _parse(body: bytes) -> ElementTree.Element:
    """The page's tree, built with the cyclic garbage collector paused.

    Every element of a page lives until the page is read, so building one sets off full collections over the
    whole process's heap (Airflow's included), which cost more than the parse itself; a tree holds no
    reference cycle for them to find. The collector is left as it was found.
    """
    if not gc.isenabled():
        return ElementTree.fromstring(body)
    gc.disable()
    try:
        return ElementTree.fromstring(body)
    finally:
        gc.enable()


@functools.lru_cache(maxsize=4096)
def _modified(value: str) -> datetime:
    """RFC 1123, as the SDK parses it; blobs written together share a second, hence the cache."""
    return parsedate_to_datetime(value)


def sdk_fields(blob: Any) -> Fields:
    """The same fields from the SDK's ``BlobProperties``."""
    settings = blob.content_settings
    md5 = settings.content_md5 if settings else None
    etag = bytes(md5).hex() if md5 else str(blob.etag).strip('"')
    return (blob.name, int(blob.size), etag, blob.last_modified, settings.content_type if settings else None)
