"""A cheaper reading of S3 ``ListObjectsV2`` answers, for one boto3 client, with botocore's exact result.

botocore turns a response body into a dict by building an ``ElementTree`` and walking its service model over
every element: per element it strips the namespace with a regex, looks up the member, builds a name-to-node
dict for every ``<Contents>`` and dispatches through several layers of handlers. For a 1,000-key listing page
that is 11 ms of Python here (26 ms with the garbage collections its 6,000 tree nodes set off), under the GIL,
so threads listing in parallel queue behind each other (at 30 ms per request no thread count passed ~2.2x).

:class:`ListingParser` keeps botocore's parser for everything (headers, response metadata, errors, every other
operation) and replaces only the reading of a ``ListObjectsV2Output`` body. The model is compiled once into a
table from XML tag to member, then a page is read by the first of three readers that vouches for it:

1. the scan (:class:`_Scan`, 3 ms a page): for the plain layout S3 and moto send, regular expressions built
   from the table read the page in C, after expat has checked the document as botocore's parser would;
2. expat's events (:func:`read_body`, 5.5 ms): any layout the model allows (comments, CDATA, whitespace,
   namespace prefixes, unknown tags, members out of order), without a tree;
3. botocore's own walk, for anything neither reproduces (a repeated scalar, a value that does not convert,
   a DTD, bad XML), so the result, or the error, is botocore's.

Each reads what botocore reads, converts as botocore converts (empty text is ``""``, a boolean is ``"true"``,
the client's timestamp parser), orders keys as the model does, and ignores tags the model does not know.
tests/integration/test_s3_fast_parse.py holds them to botocore's output, key order included.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from botocore.parsers import PROTOCOL_PARSERS, ResponseParserFactory, RestXMLParser

from airflow_ingest.storage.s3_xml_model import (
    _BOOLEAN,
    _INTEGER,
    _STRING,
    _STRUCTURE,
    _TIMESTAMP,
    _UNSEEN,
    _Slot,
    _Structure,
    _Unsupported,
    compile_structure,
)
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
            table, scan = plan
            try:
                parsed = scan.read(body, self._timestamp_parser) if scan is not None else None  # type: ignore[arg-type]
                if parsed is None:  # not the plain layout the scan reads: expat's events
                    parsed = read_body(table, body, self._timestamp_parser)  # type: ignore[arg-type]
            except Exception:  # any surprise: botocore's walk decides, with its own result or its error
                pass
            else:
                final_parsed.update(parsed)
                return
        super()._parse_payload(response, shape, member_shapes, final_parsed)


def read_body(table: _Structure, body: bytes, timestamp_parser: Callable[[str], Any]) -> dict[str, Any]:
    """Read an XML body into the dict botocore's walk of ``table``'s shape gives, straight from expat's events.

    Why expat's callbacks and not an ``ElementTree`` walked faster: the tree of a 1,000-key page is ~6,000
    ``Element`` objects alive at once, which the cyclic GC tracks; in a process that has imported Airflow a
    full collection walks ~200,000 objects (~150 ms here), and a tree per page set one off every few pages:
    more than half the CPU of a parallel listing. Here only the result's dicts and lists outlive an element.

    The parser is made as botocore's ``ElementTree.XMLParser(encoding="utf-8")`` makes it: expat, UTF-8 forced,
    ``}`` as namespace separator. Where the two readings could differ it raises, and the caller takes botocore's
    path: a document type declaration (declared or skipped entities), an element inside a scalar (``ElementTree``
    keeps only the text before it), a scalar or structure repeated where the model has one.
    """
    import pyexpat

    parser = pyexpat.ParserCreate("utf-8", "}")
    parser.buffer_text = True
    texts: list[str] = []
    result: dict[str, Any] = {}
    # The open structure or wrapped list is held in variables (the callbacks run per element, and reading a
    # closure variable is cheaper than indexing a frame): its table (a list's: its item slot), the dict or list
    # being filled, the model index of the last member set and whether members came in model order, and the
    # slot it fills in its parent. Enclosing ones wait on `stack`. Scalars cannot nest, so the open one is a
    # variable too, as is the depth inside an element the model does not know.
    stack: list[tuple[Any, ...]] = []
    tags: dict[str, _Slot | None] = {}
    table_: Any = None
    target: Any = None
    last = -1
    ordered = True
    filling: _Slot | None = None
    scalar: _Slot | None = None
    ignoring = 0
    started = False

    def start(name: str, attrs: Any) -> None:
        nonlocal tags, table_, target, last, ordered, filling, scalar, ignoring, started
        if ignoring:
            ignoring += 1
            return
        if scalar is not None:
            raise _Unsupported(f"<{name}> inside a scalar")  # ElementTree's text would stop at it
        if target.__class__ is list:  # a wrapped list: every child is an item, whatever its tag, as in botocore
            slot = table_
        else:
            slot = tags.get(name, _UNSEEN)
            if slot is _UNSEEN:
                if table_ is None:  # the document element is the output structure, whatever its tag
                    if started:
                        raise _Unsupported("a second document element")
                    started = True
                    tags, table_, target = table.by_tag, table, result
                    return
                slot = table_.resolve(name)
            if slot is None:  # a tag the model does not know: botocore ignores it and all it holds
                ignoring = 1
                return
        kind = slot.kind
        if kind < _STRUCTURE:
            scalar = slot
            texts.clear()
            return
        stack.append((tags, table_, target, last, ordered, filling))
        last, ordered, filling = -1, True, slot
        if kind == _STRUCTURE:
            table_ = slot.item
            tags, target = table_.by_tag, {}
        else:
            table_, target = slot.item, []

    def end(name: str) -> None:
        nonlocal tags, table_, target, last, ordered, filling, scalar, ignoring
        if ignoring:
            ignoring -= 1
            return
        slot = scalar
        if slot is not None:
            scalar = None
            text = "".join(texts)
            kind = slot.kind
            if kind == _STRING:
                value: Any = text
            elif kind == _TIMESTAMP:
                value = timestamp_parser(text)
            elif kind == _INTEGER:
                value = int(text)
            elif kind == _BOOLEAN:
                value = text == "true"
            else:
                value = float(text)
        else:
            value = target
            if not ordered:  # members came out of the model's order: put them in it, as botocore does
                value = {key: value[key] for key in table_.order if key in value}
            slot = filling
            if slot is None:  # the document element closed
                if value is not result:
                    result.clear()
                    result.update(value)
                table_ = None
                return
            tags, table_, target, last, ordered, filling = stack.pop()
        if target.__class__ is list:
            target.append(value)
            return
        key = slot.name
        if slot.append:
            items = target.get(key)
            if items is not None:
                items.append(value)
                return
            target[key] = [value]
        elif key in target:
            raise _Unsupported(f"<{name}> repeated")  # botocore would read a list of nodes here
        else:
            target[key] = value
        if slot.index < last:
            ordered = False
        last = slot.index

    def refuse(*args: Any) -> None:
        raise _Unsupported("a document type declaration or a skipped entity")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = texts.append
    parser.StartDoctypeDeclHandler = refuse
    parser.SkippedEntityHandler = refuse
    parser.Parse(body, True)
    return result


# The scan: for the plain layout S3 sends (no DTD, comment, CDATA, processing instruction, carriage return,
# namespace prefix or attribute but the root's xmlns, members of an object in model order), regular


class _Plans:
    """Compiled readers per output shape, built on first use; ``None`` marks a shape left to botocore."""

    def __init__(self) -> None:
        self._plans: dict[str, tuple[Any, tuple[_Structure, _Scan | None] | None]] = {}
        self._lock = threading.Lock()

    def get(self, shape: Any) -> tuple[_Structure, _Scan | None] | None:
        cached = self._plans.get(shape.name)
        if cached is not None and cached[0] is shape:
            return cached[1]
        with self._lock:
            plan: tuple[_Structure, _Scan | None] | None
            try:
                table = compile_structure(shape)
            except _Unsupported:
                plan = None
            else:
                try:
                    plan = (table, _Scan(table))
                except _Unsupported:
                    plan = (table, None)
            self._plans[shape.name] = (shape, plan)
        return plan


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
