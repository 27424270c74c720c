"""The scan: one page of ``ListObjectsV2`` read by regular expressions in C, for the plain layout S3 sends.

No DTD, comment, CDATA, processing instruction, carriage return, namespace prefix or attribute but the root's
xmlns, members of an object in model order; an empty element may be written ``<Tag/>``, as moto writes it).
Python only assembles the dicts. Anything else makes it give up, and botocore reads the page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from airflow_ingest.storage.s3_xml_model import (
    _INTEGER,
    _LIST,
    _STRING,
    _STRUCTURE,
    _TIMESTAMP,
    _scalar,
    _Slot,
    _Structure,
    _Unsupported,
)

_ROOT_OPEN = re.compile(r'\A(?:<\?xml [^<>]*\?>)?\s*<([A-Za-z][A-Za-z0-9]*)(?:\s+xmlns="[^"<&]*")?\s*>')
_EMPTY = re.compile(r"<([A-Za-z][A-Za-z0-9]*)/>")
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
        """The parsed body, or None when it is not in the plain layout (then botocore's walk reads it).

        expat checks the document first, set up as botocore's parser is, so anything it rejects raises here
        and botocore reports it; the expressions then only have to recognise a layout, not check XML.
        """
        if b"<!" in body or b"\r" in body or body.count(b"<?") > body.startswith(b"<?xml "):
            return None
        import pyexpat

        pyexpat.ParserCreate("utf-8", "}").Parse(body, True)
        text = body.decode("utf-8")
        if "/>" in text:  # expat accepted it and no CDATA or comment is left, so only an empty element has "/>"
            text = _EMPTY.sub(r"<\1></\1>", text)
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
                    return None  # repeated: botocore reads a list of nodes there
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
