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

import re
import threading
from collections.abc import Callable
from typing import Any

from botocore.parsers import PROTOCOL_PARSERS, ResponseParserFactory, RestXMLParser

FAST_SHAPES = frozenset({"ListObjectsV2Output"})
"""Output shapes read through a compiled table: only the listing's, the one answer that is large and frequent."""

_TAG_CACHE_LIMIT = 256

# What an element holds: a scalar (converted from its text), a structure, or a wrapped list of items.
_STRING, _BOOLEAN, _INTEGER, _FLOAT, _TIMESTAMP, _STRUCTURE, _LIST = range(7)
_SCALARS = {
    "string": _STRING,
    "character": _STRING,
    "boolean": _BOOLEAN,
    "integer": _INTEGER,
    "long": _INTEGER,
    "float": _FLOAT,
    "double": _FLOAT,
    "timestamp": _TIMESTAMP,
}
_SKIPPED_LOCATIONS = frozenset(RestXMLParser.KNOWN_LOCATIONS)


class _Unsupported(Exception):
    """The fast read met something it does not reproduce; the page goes to botocore's walk instead."""


class _Slot:
    """Where one XML element's value goes: under ``name`` in its structure, or appended to a list there.

    A flattened list member becomes a slot of its item's kind with ``append`` set (each repeated element is
    one item); a wrapped list is a ``_LIST`` slot whose ``item`` slot reads each child, whatever its tag.
    """

    __slots__ = ("append", "index", "item", "kind", "name")

    def __init__(self, name: str, index: int, kind: int, item: _Slot | _Structure | None, append: bool) -> None:
        self.name = name
        self.index = index  # the member's position in the model, to give the model's key order
        self.kind = kind
        self.item = item  # a structure's table, or a wrapped list's item slot
        self.append = append


class _Structure:
    """A structure shape compiled to a table from XML tag to slot, with the model's member order."""

    __slots__ = ("by_name", "by_tag", "order")

    def __init__(self) -> None:
        self.by_name: dict[str, _Slot] = {}
        self.by_tag: dict[str, _Slot | None] = {}
        self.order: list[str] = []

    def resolve(self, name: str) -> _Slot | None:
        """A tag not seen before, as expat names it (``uri}local``): drop the namespace as botocore does.

        botocore removes ``{.*}`` from ElementTree's ``{uri}local``, which leaves what follows the last ``}``.
        The answer is remembered, up to a bound, so a server inventing tags cannot grow the table.
        """
        slot = self.by_name.get(name.rpartition("}")[2])
        if len(self.by_tag) < _TAG_CACHE_LIMIT:
            self.by_tag[name] = slot
        return slot


def compile_structure(shape: Any) -> _Structure:
    """Compile a botocore structure shape, or raise :class:`_Unsupported` for what botocore reads differently.

    Follows ``BaseXMLResponseParser._handle_structure``: members located in headers or the status code are not
    read from the body; a flattened list with a named member is found under that name; XML attributes, maps,
    blobs, tagged unions, error shapes, payload members and two members under one tag are left to botocore.
    """
    if shape.type_name != "structure" or shape.metadata.get("exception") or shape.is_tagged_union:
        raise _Unsupported(shape.name)
    if "payload" in shape.serialization:  # the body is one member, not the structure: botocore's other branch
        raise _Unsupported(shape.name)
    table = _Structure()
    for index, (member_name, member_shape) in enumerate(shape.members.items()):
        serialization = member_shape.serialization
        if serialization.get("location") in _SKIPPED_LOCATIONS or serialization.get("eventheader"):
            continue
        if serialization.get("xmlAttribute") or serialization.get("jsonvalue"):
            raise _Unsupported(f"{shape.name}.{member_name}")
        xml_name = _member_key_name(member_shape, member_name)
        if xml_name in table.by_name:
            raise _Unsupported(f"{shape.name}: two members under <{xml_name}>")
        if member_shape.type_name == "list" and member_shape.serialization.get("flattened"):
            slot = _value_slot(member_shape.member, member_name, index, append=True)
        else:
            slot = _value_slot(member_shape, member_name, index, append=False)
        table.by_name[xml_name] = slot
        table.order.append(member_name)
    return table


def _value_slot(shape: Any, name: str, index: int, append: bool) -> _Slot:
    kind = shape.type_name
    if kind in _SCALARS:
        return _Slot(name, index, _SCALARS[kind], None, append)
    if kind == "structure":
        return _Slot(name, index, _STRUCTURE, compile_structure(shape), append)
    if kind == "list" and not append:
        item = _value_slot(shape.member, name, 0, append=True)
        if item.kind == _LIST:
            raise _Unsupported(f"{shape.name}: a list of lists")
        return _Slot(name, index, _LIST, item, append)
    raise _Unsupported(f"{shape.name}: {kind}")


def _member_key_name(shape: Any, member_name: str) -> str:
    """botocore's ``_member_key_name``: the XML tag a member is read from."""
    if shape.type_name == "list" and shape.serialization.get("flattened"):
        item_name = shape.member.serialization.get("name")
        if item_name is not None:
            return str(item_name)
    return str(shape.serialization.get("name", member_name))


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
# expressions read a page in C and Python only assembles the dicts: half the CPU of expat's events.
_ROOT_OPEN = re.compile(r'\A(?:<\?xml [^<>]*\?>)?\s*<([A-Za-z][A-Za-z0-9]*)(?:\s+xmlns="[^"<&]*")?\s*>')
_ENTITY = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_LEAVES = "(?:<[A-Za-z][A-Za-z0-9]*>[^<]*</[A-Za-z][A-Za-z0-9]*>)*"


def _entity(match: re.Match[str]) -> str:
    ref = match.group(1)
    if ref[0] != "#":
        return _NAMED[ref]
    return chr(int(ref[2:], 16) if ref[1] == "x" else int(ref[1:]))


def _text(raw: str) -> str:
    """Character data as XML gives it: the five named entities and character references replaced.

    expat has already accepted the document (and it has no DTD), so no other reference can occur.
    """
    return _ENTITY.sub(_entity, raw) if "&" in raw else raw


class _Flat:
    """A structure whose members are scalars, lists of scalars and structures of scalars, as one pattern.

    The pattern takes the members in model order, each optional, so the dict comes out in botocore's order;
    what does not fit (another order, an unknown tag, a deeper nesting) makes the scan give up.
    ``first_group`` is the number its first group gets inside an enclosing pattern.
    """

    def __init__(self, table: _Structure, first_group: int = 1) -> None:
        parts: list[str] = []
        self.fields: list[tuple[str, int, int, Any]] = []
        by_member = {slot.name: (tag, slot) for tag, slot in table.by_name.items()}
        group = first_group
        for name in table.order:
            xml_name, slot = by_member[name]
            tag = re.escape(xml_name)
            if slot.kind < _STRUCTURE and not slot.append:
                parts.append(f"(?:<{tag}>([^<]*)</{tag}>)?")
                self.fields.append((name, group - 1, slot.kind, None))
            elif slot.kind < _STRUCTURE:
                parts.append(f"((?:<{tag}>[^<]*</{tag}>)*)")
                self.fields.append((name, group - 1, _LIST, (slot.kind, re.compile(f"<{tag}>([^<]*)</{tag}>"))))
            elif slot.kind == _STRUCTURE and not slot.append and isinstance(slot.item, _Structure):
                inner = _Flat(slot.item)
                if any(kind >= _STRUCTURE for _, _, kind, _ in inner.fields):
                    raise _Unsupported(f"{name}: nested too deep for the scan")
                parts.append(f"(?:<{tag}>({_LEAVES})</{tag}>)?")
                self.fields.append((name, group - 1, _STRUCTURE, inner))
            else:
                raise _Unsupported(f"{name}: not read by the scan")
            group += 1
        self.pattern = "".join(parts)
        self.next_group = group
        self.compiled = re.compile(self.pattern)
        self.build: Callable[[tuple[str | None, ...], Callable[[str], Any]], dict[str, Any]] = self._builder()

    def _builder(self) -> Callable[[tuple[str | None, ...], Callable[[str], Any]], dict[str, Any]]:
        """``build(groups, timestamp_parser)``: the member dict from a match's ``groups()``.

        Generated as straight-line code, one ``if`` per member, as ``collections.namedtuple`` generates its
        methods: a loop over the members with a branch on each one's kind was a quarter of a page's CPU, run
        for every object of every page. ``groups[n - 1]`` is group ``n``. What each member does is the table's:
        text with entities replaced, then botocore's conversion for the member's kind.
        """
        lines = ["def build(groups, timestamp_parser):", "    parsed = {}"]
        names: dict[str, Any] = {"_text": _text, "_scalar": _scalar, "_Unsupported": _Unsupported}
        for index, (name, group, kind, extra) in enumerate(self.fields):
            lines += [f"    raw = groups[{group}]", "    if raw is not None:"]
            if kind < _STRUCTURE:
                lines.append('        if "&" in raw: raw = _text(raw)')
                value = {_STRING: "raw", _TIMESTAMP: "timestamp_parser(raw)", _INTEGER: "int(raw)"}.get(
                    kind, f"_scalar({kind}, raw, timestamp_parser)"
                )
                lines.append(f"        parsed[{name!r}] = {value}")
            elif kind == _LIST:  # zero elements: the member is absent, as in botocore
                names[f"item_{index}"] = extra[1]
                lines += [
                    "        if raw:",
                    f"            parsed[{name!r}] = [_scalar({extra[0]}, _text(v), timestamp_parser) "
                    f"for v in item_{index}.findall(raw)]",
                ]
            else:
                names[f"flat_{index}"] = extra
                lines += [
                    f"        match = flat_{index}.compiled.fullmatch(raw)",
                    "        if match is None:",
                    f"            raise _Unsupported({f'<{name}> is not in the plain layout'!r})",
                    f"        parsed[{name!r}] = flat_{index}.build(match.groups(), timestamp_parser)",
                ]
        lines.append("    return parsed")
        exec("\n".join(lines), names)  # the source holds only the model's member names, as repr() literals
        return names["build"]  # type: ignore[no-any-return]


def _scalar(kind: int, text: str, timestamp_parser: Callable[[str], Any]) -> Any:
    """botocore's scalar handlers, on the element's text."""
    if kind == _STRING:
        return text
    if kind == _TIMESTAMP:
        return timestamp_parser(text)
    if kind == _INTEGER:
        return int(text)
    if kind == _BOOLEAN:
        return text == "true"
    return float(text)


class _Scan:
    """The output structure as one alternation: a scalar member, or one item of a flattened list of structures.

    Top-level members may come in any order (S3 and moto each have their own); each match is one child, and
    the matches must tile the root's content with only whitespace between them (which botocore ignores).
    """

    def __init__(self, table: _Structure) -> None:
        self.table = table
        self.items: dict[str, tuple[_Slot, _Flat]] = {}
        alternatives: list[str] = []
        scalars: list[str] = []
        group = 1
        for xml_name, slot in table.by_name.items():
            tag = re.escape(xml_name)
            if slot.kind < _STRUCTURE and not slot.append:
                scalars.append(tag)
            elif slot.kind == _STRUCTURE and slot.append and isinstance(slot.item, _Structure):
                label = f"item{len(self.items)}"
                flat = _Flat(slot.item, group + 1)  # group: the labelled group around the whole element
                alternatives.append(f"(?P<{label}><{tag}>{flat.pattern}</{tag}>)")
                self.items[label] = (slot, flat)
                group = flat.next_group
            else:
                raise _Unsupported(f"{slot.name}: not read by the scan")
        if scalars:
            alternatives.append(f"(?P<scalar><(?P<tag>{'|'.join(scalars)})>(?P<text>[^<]*)</(?P=tag)>)")
        self.child = re.compile(r"\s*(?:" + "|".join(alternatives) + ")")

    def read(self, body: bytes, timestamp_parser: Callable[[str], Any]) -> dict[str, Any] | None:
        """The parsed body, or None when it is not in the plain layout (then expat's events read it).

        expat checks the document first, set up as botocore's parser is, so anything it rejects raises here
        and botocore reports it; the expressions then only have to recognise a layout, not check XML.
        """
        if b"<!" in body or b"\r" in body or body.count(b"<?") > body.startswith(b"<?xml "):
            return None
        import pyexpat

        pyexpat.ParserCreate("utf-8", "}").Parse(body, True)
        text = body.decode("utf-8")
        opened = _ROOT_OPEN.match(text)
        if opened is None:
            return None
        end = len(text.rstrip()) - len(opened.group(1)) - 3
        if text[end : end + 2] != "</" or text[end + 2 : end + 2 + len(opened.group(1))] != opened.group(1):
            return None
        table, items = self.table, self.items
        parsed: dict[str, Any] = {}
        last, ordered = -1, True
        pos = opened.end()
        for match in self.child.finditer(text, pos, end):
            if match.start() != pos:
                return None  # something between two members that is not whitespace
            pos = match.end()
            label = match.lastgroup
            if label == "scalar":
                slot = table.by_name[match.group("tag")]
                name = slot.name
                if name in parsed:
                    return None  # repeated: botocore reads a list of nodes there, expat's reading settles it
                parsed[name] = _scalar(slot.kind, _text(match.group("text")), timestamp_parser)
            else:
                slot, flat = items[label]  # type: ignore[index]
                name = slot.name
                try:
                    value = flat.build(match.groups(), timestamp_parser)
                except _Unsupported:
                    return None
                existing = parsed.get(name)
                if existing is not None:
                    existing.append(value)
                    continue
                parsed[name] = [value]
            if slot.index < last:
                ordered = False
            last = slot.index
        if not text[pos:end].isspace() and pos != end:
            return None
        if not ordered:
            parsed = {key: parsed[key] for key in table.order if key in parsed}
        return parsed


_UNSEEN = _Slot("", -1, _STRING, None, False)  # a sentinel: a tag not in the table yet (None: known, ignored)


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
