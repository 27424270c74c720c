"""A cheaper reading of S3 ``ListObjectsV2`` answers, for one boto3 client, with botocore's exact result.

botocore turns a response body into a dict by building an ``ElementTree`` and walking its service model over
every element: per element it strips the namespace with a regex, looks up the member, builds a name-to-node
dict for every ``<Contents>`` and dispatches through several layers of handlers, all in Python under the GIL,
so threads listing in parallel queue behind each other (``make bench --only engines`` shows the difference).

:class:`ListingParser` keeps botocore's parser for everything (headers, response metadata, errors, every other
operation) and replaces only the reading of a ``ListObjectsV2Output`` body. The model is compiled once into a
table from XML tag to member, and the scan (:class:`_Scan`) reads a page in the plain layout S3 and moto send
with regular expressions built from that table, in C, after expat has checked the document as botocore's
parser would. Any other layout (comments, CDATA, a namespace prefix, an unknown tag, a repeated scalar, a value
that does not convert, bad XML) goes to botocore's own walk, so its result, or its error, is botocore's.

The scan reads what botocore reads, converts as botocore converts (empty text is ``""``, a boolean is
``"true"``, the client's timestamp parser) and orders keys as the model does.
tests/integration/storage/test_s3_xml.py holds it to botocore's output, key order included.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from botocore.parsers import PROTOCOL_PARSERS, ResponseParserFactory, RestXMLParser

from airflow_ingest.storage.s3_xml_model import _Unsupported, compile_structure
from airflow_ingest.storage.s3_xml_scan import _Scan

FAST_SHAPES = frozenset({"ListObjectsV2Output"})
"""Output shapes read through a compiled table: only the listing's, the one answer that is large and frequent."""


class ListingParser(RestXMLParser):  # type: ignore[misc]
    """botocore's REST-XML parser with a compiled read of the bodies in :data:`FAST_SHAPES`.

    Only ``_parse_payload`` is overridden, and it is only reached for successful answers and modeled errors;
    error shapes never match :data:`FAST_SHAPES`, so every error still takes botocore's path.
    """

    def __init__(self, plans: _Plans, **defaults: Any) -> None:
        super().__init__(**defaults)
        self._plans = plans

    def _parse_payload(
        self, response: dict[str, Any], shape: Any, member_shapes: Any, final_parsed: dict[str, Any]
    ) -> None:
        body = response.get("body")
        plan = self._plans.get(shape) if shape.name in FAST_SHAPES and isinstance(body, bytes) and body else None
        if plan is not None:
            try:
                parsed = plan.read(body, self._timestamp_parser)  # type: ignore[arg-type]
            except Exception:  # any surprise: botocore's walk decides, with its own result or its error
                parsed = None
            if parsed is not None:
                final_parsed.update(parsed)
                return
        super()._parse_payload(response, shape, member_shapes, final_parsed)


class _Plans:
    """The scan per output shape, compiled on first use; ``None`` marks a shape left to botocore."""

    def __init__(self) -> None:
        self._plans: dict[str, tuple[Any, _Scan | None]] = {}
        self._lock = threading.Lock()

    def get(self, shape: Any) -> _Scan | None:
        cached = self._plans.get(shape.name)
        if cached is not None and cached[0] is shape:
            return cached[1]
        with self._lock:
            try:
                scan: _Scan | None = _Scan(compile_structure(shape))
            except _Unsupported:
                scan = None
            self._plans[shape.name] = (shape, scan)
        return scan


class ListingParserFactory(ResponseParserFactory):  # type: ignore[misc]
    """A response parser factory for one client: :class:`ListingParser` for REST-XML, botocore's otherwise.

    botocore shares one factory between every client of a session; this one is set on a single client's
    endpoint, so its settings (the timestamp parser) and the faster read stay on that client.
    """

    def __init__(self, defaults: dict[str, Any]) -> None:
        super().__init__()
        self.set_parser_defaults(**defaults)
        self._plans = _Plans()

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "rest-xml":
            return ListingParser(self._plans, **self._defaults)
        return super().create_parser(protocol_name)


def install_listing_parser(client: Any, timestamp_parser: Callable[[str], Any] | None = None) -> bool:
    """Give ``client`` its own :class:`ListingParserFactory`, keeping its current parser settings.

    Returns False and leaves the client as it was when botocore's internals are not where this expects them.
    """
    endpoint = getattr(client, "_endpoint", None)
    current = getattr(endpoint, "_response_parser_factory", None)
    defaults = getattr(current, "_defaults", None)
    if endpoint is None or not isinstance(defaults, dict) or not hasattr(current, "create_parser"):
        return False
    if PROTOCOL_PARSERS.get("rest-xml") is not RestXMLParser:  # botocore reads REST-XML another way now
        return False
    if not isinstance(current, ListingParserFactory):
        factory = ListingParserFactory(defaults)
        endpoint._response_parser_factory = factory
    else:
        factory = current
    if timestamp_parser is not None:
        factory.set_parser_defaults(timestamp_parser=timestamp_parser)
    return True


_DECODED_TOP = ("Delimiter", "Prefix", "StartAfter")
_DECODED_NESTED = (("Contents", "Key"), ("CommonPrefixes", "Prefix"))


def install_lean_key_decoding(client: Any) -> bool:
    """URL-decode a listing's keys only where decoding changes them, as botocore's own handler would decode them.

    botocore asks S3 for URL-encoded keys (``EncodingType=url``, so any key survives XML) and decodes every one
    after the call with ``unquote_plus``: about a millisecond per 1,000-key page, though a key with neither
    ``%`` nor ``+`` comes back unchanged. This handler runs first, decodes only the keys that change, and takes
    the ``encoding_type_auto_set`` mark off the request's context, so botocore's handler (also unregistered
    here) could not decode twice even if it stayed. Same condition, same members, same function as botocore's.
    """
    from botocore import handlers

    unquote = getattr(handlers, "unquote_str", None)
    stock = getattr(handlers, "decode_list_object_v2", None)
    if unquote is None or stock is None:
        return False

    def decode_keys(parsed: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> None:
        if parsed.get("EncodingType") != "url" or not context.get("encoding_type_auto_set"):
            return
        context.pop("encoding_type_auto_set")
        for key in _DECODED_TOP:
            if key in parsed:
                parsed[key] = unquote(parsed[key])
        for list_key, member_key in _DECODED_NESTED:
            if list_key in parsed:
                for member in parsed[list_key]:
                    value = member[member_key]
                    if value.__class__ is not str or "%" in value or "+" in value:
                        member[member_key] = unquote(value)

    events = client.meta.events
    events.register_first("after-call.s3.ListObjectsV2", decode_keys, unique_id="airflow-ingest-key-decoding")
    events.unregister("after-call.s3.ListObjectsV2", stock)
    return True
