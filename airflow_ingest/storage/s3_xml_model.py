"""The ``ListObjectsV2`` output model compiled into a table from XML tag to member, as botocore's parser walks it.

Read by :mod:`airflow_ingest.storage.s3_xml_scan`; :mod:`airflow_ingest.storage.s3_xml` says why it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.parsers import RestXMLParser

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

    __slots__ = ("by_name", "order")

    def __init__(self) -> None:
        self.by_name: dict[str, _Slot] = {}
        self.order: list[str] = []


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
