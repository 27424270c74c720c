"""The ledger: what a sync target already holds, so a nightly run sends only what is new.

One entry per object registered (or found already there) on a platform target: its url, etag and item.
Entries are stored sorted by url, gzipped, one per line, so choosing what to send is a streaming merge of
two sorted streams (the key-ordered listing and the ledger) in constant memory, however large both are.

Line formats. Format 2 (written since the ledger selection benchmark, issue 8) starts with the line
:data:`FORMAT_2` and holds ``url<TAB>etag<TAB>item`` per line, with a backslash, tab, newline or carriage
return inside a field written as ``\\``, ``\t``, ``\n`` or ``\r``: reading a million of those lines is a few
string splits, where a JSON object per line cost ``json.loads`` and a dict each (half of a nightly
selection's time). Format 1, JSON lines with no header, is still read, so ledgers written before stay
valid; the next commit rewrites them in format 2. A header naming a later format is refused, not guessed at.

Commits never edit a ledger in place. A run writes a new ledger file (the old entries merged with its
own registered and duplicate outcomes) and then a small ``HEAD.json`` naming it with its entry count and
SHA-256, in one write; object stores replace a small object atomically, so a reader sees the old ledger
or the new one, never half of one. A HEAD whose file is missing, short or altered is detected on read and
refused, not trusted.
"""

from __future__ import annotations

import gzip
import hashlib
import heapq
import io
import json
import pickle
import re
import tempfile
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from itertools import chain, repeat
from pathlib import Path
from typing import IO, NamedTuple

from airflow_ingest.core.errors import IngestError
from airflow_ingest.core.objects import StoredObject, line_blocks


class LedgerError(IngestError):
    """A ledger that cannot be trusted; the message names the file and how to repair it."""


class Entry(NamedTuple):
    """One object the target holds.

    A named tuple rather than a frozen dataclass: a selection reads a million of them, and a tuple is built in
    C from a reader's columns at a fraction of a frozen dataclass's cost (figures: README, Benchmarks).
    Immutable and hashable either way.
    """

    url: str
    etag: str
    item: str

    def line(self) -> str:
        """The entry's line in format 2, fields escaped only when one holds a backslash, tab or line break."""
        text = f"{self.url}\t{self.etag}\t{self.item}\n"
        if text.count("\t") == 2 and text.count("\n") == 1 and "\\" not in text and "\r" not in text:
            return text
        return f"{_escape(self.url)}\t{_escape(self.etag)}\t{_escape(self.item)}\n"


FORMAT_2 = "# airflow-ingest ledger, format 2: url, etag and item separated by tabs, sorted by url\n"
"""The first line of a format 2 ledger file; it names the format for a person reading it with ``zcat``."""

_FORMAT_PREFIX = "# airflow-ingest ledger, format "

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_UNESCAPES = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}
_ESCAPED = re.compile(r"\\.?", re.DOTALL)

_BLOCK = 1 << 20
"""Characters decoded per read: about 10,000 ledger lines."""


def _escape(field: str) -> str:
    return field.translate(_ESCAPES)


def _unescape_match(match: re.Match[str]) -> str:
    try:
        return _UNESCAPES[match.group()]
    except KeyError:
        raise LedgerError(f"unknown escape {match.group()!r} in a ledger line") from None


def _unescape(field: str) -> str:
    return _ESCAPED.sub(_unescape_match, field) if "\\" in field else field


class OnChange(str, Enum):
    """What to do with an object whose etag differs from the ledger's (the file was replaced)."""

    REPORT = "report"
    RESEND = "resend"


@dataclass(frozen=True, slots=True)
class Selection:
    counts: dict[str, int]
    changed: list[str]
    vanished: list[str]


def read_entries(stream: IO[bytes]) -> Iterator[Entry]:
    """The entries of a ledger file in either format (see the module's docstring), in file order, lazily.

    A line that is not a valid entry raises :class:`LedgerError` (format 2) or ``ValueError`` (format 1) when
    it is reached. Blocks of entries are chained in C, so a million entries do not each resume a generator.
    """
    return chain.from_iterable(_entry_blocks(stream))


def _entry_blocks(stream: IO[bytes]) -> Iterator[Iterable[Entry]]:
    with gzip.GzipFile(fileobj=stream, mode="rb") as raw:
        first = raw.readline()
        if not first:
            return
        if first.startswith(b"{"):  # format 1: JSON lines from the first line on
            yield (_json_entry(first),)
            yield map(_json_entry, raw)
            return
        header = first.decode("utf-8", errors="replace")
        if header != FORMAT_2:
            if header.startswith(_FORMAT_PREFIX):
                version = header[len(_FORMAT_PREFIX) :].split(":")[0]
                raise LedgerError(f"the ledger is in format {version}; this airflow-ingest reads formats 1 and 2")
            raise LedgerError(f"not a ledger file: it starts with {header[:80]!r}")
        with io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as text:
            for block in line_blocks(text, _BLOCK):
                if not block.endswith("\n"):
                    raise LedgerError(f"the ledger file ends inside a line: {block[-200:]!r}")
                yield _format_2_lines(block)


def _json_entry(line: bytes) -> Entry:
    data = json.loads(line)
    return Entry(data["url"], data["etag"], data["item"])


def _format_2_lines(text: str) -> Iterator[Entry]:
    """The entries of whole format 2 lines (``text`` ends with a newline).

    The common block has no backslash, so no escapes: one split makes the lines, a ``map`` in C checks each
    has exactly two tabs, one more split makes the fields and the entries are built from its columns in C.
    A block with an escape is read line by line.
    """
    lines = text.split("\n")
    lines.pop()  # the empty string after the last newline
    if "\\" not in text and all(count == 2 for count in set(map(str.count, lines, repeat("\t")))):
        fields = "\t".join(lines).split("\t")
        return map(tuple.__new__, repeat(Entry), zip(fields[0::3], fields[1::3], fields[2::3], strict=True))
    return map(_escaped_line, lines)


def _escaped_line(line: str) -> Entry:
    fields = line.split("\t")
    if len(fields) != 3:
        raise LedgerError(f"a ledger line holds {len(fields)} fields, not 3 (url, etag, item): {line[:200]!r}")
    return Entry(_unescape(fields[0]), _unescape(fields[1]), _unescape(fields[2]))


def check_order(entries: Iterable[Entry]) -> Iterator[Entry]:
    """``entries`` as they come, raising :class:`LedgerError` at the first that is not after the one before.

    The selection's merge trusts this order; every writer of a ledger file goes through it.
    """
    previous = None
    for entry in entries:
        if previous is not None and entry.url <= previous:
            raise LedgerError(f"ledger entries out of order at {entry.url!r}: they must be sorted and unique")
        previous = entry.url
        yield entry


def write_entries(entries: Iterable[Entry], stream: IO[bytes]) -> tuple[int, str]:
    """Write sorted entries in format 2; return their count and the SHA-256 of the gzipped bytes written.

    Lines go to gzip in blocks of 10,000: a write per line cost more than the line. ``mtime=0`` keeps the
    bytes, so the checksum, the same for the same entries.
    """
    digest = hashlib.sha256()
    count = 0

    class _Hashing:
        def write(self, data: bytes) -> int:
            digest.update(data)
            return stream.write(data)

        def flush(self) -> None:
            stream.flush()

    with gzip.GzipFile(fileobj=_Hashing(), mode="wb", compresslevel=5, mtime=0) as out:  # type: ignore[arg-type]
        lines = [FORMAT_2]
        for entry in check_order(entries):
            lines.append(entry.line())
            count += 1
            if len(lines) >= 10_000:
                out.write("".join(lines).encode("utf-8"))
                lines.clear()
        out.write("".join(lines).encode("utf-8"))
    return count, digest.hexdigest()


def select(
    objects: Iterable[StoredObject],
    ledger: Iterable[Entry],
    *,
    scope: str,
    exhaustive: bool = True,
    on_change: OnChange = OnChange.REPORT,
    keep: int = 1000,
) -> tuple[Iterator[StoredObject], Selection]:
    """The objects to send (new ones, and changed ones with ``resend``), merging two url-sorted streams.

    ``scope`` is the url prefix the listing covered (``s3://bucket/prefix``): ledger entries outside it
    are none of this run's business. ``exhaustive`` says the listing saw every object in scope (no
    filters); only then can an entry that was not listed be called vanished. ``selection`` fills in as the
    returned iterator is consumed, with counts and the first ``keep`` changed and vanished urls.
    """
    selection = Selection({"new": 0, "changed": 0, "unchanged": 0, "vanished": 0}, [], [])

    def note(kind: str, url: str, into: list[str]) -> None:
        selection.counts[kind] += 1
        if len(into) < keep:
            into.append(url)

    def gone(entry: Entry) -> None:
        if exhaustive:
            note("vanished", entry.url, selection.vanished)

    def merged() -> Iterator[StoredObject]:
        # The hot loop of a nightly selection, once per listed object: no generator layer for the scope
        # (both streams are sorted, so the entries in scope are one run, from ``scope`` up to the first
        # entry outside it) and "unchanged", the common case, counted in a local that is added to
        # ``selection`` before each yield and at the end, so whenever a caller can look the counts are right.
        counts = selection.counts
        entries = iter(ledger)
        current = next(entries, None)
        while current is not None and current.url < scope:
            current = next(entries, None)
        if current is not None and not current.url.startswith(scope):
            current = None
        unchanged = 0
        for obj in objects:
            url = obj.url
            while current is not None and current.url < url:
                gone(current)
                current = next(entries, None)
                if current is not None and not current.url.startswith(scope):
                    current = None
            if current is not None and current.url == url:
                if current.etag == obj.etag:
                    unchanged += 1
                else:
                    note("changed", url, selection.changed)
                    if on_change is OnChange.RESEND:
                        counts["unchanged"] += unchanged
                        unchanged = 0
                        yield obj
                current = next(entries, None)
                if current is not None and not current.url.startswith(scope):
                    current = None
            else:
                counts["new"] += 1
                counts["unchanged"] += unchanged
                unchanged = 0
                yield obj
        counts["unchanged"] += unchanged
        while current is not None:
            gone(current)
            current = next(entries, None)
            if current is not None and not current.url.startswith(scope):
                current = None
        deque(entries, maxlen=0)  # read the ledger to its end all the same: its reader checks the entry count there

    return merged(), selection


def merge_entries(old: Iterable[Entry], new: Iterable[Entry], same: list[int] | None = None) -> Iterator[Entry]:
    """Old entries updated with new ones (a new etag or item wins), both sorted by url, in one pass.

    ``same``, when given, ends holding one number: how many new entries equal an old one. A commit whose new
    entries all do changes nothing, and writes no new ledger file.
    """
    previous: Entry | None = None
    equal = 0
    for entry in heapq.merge(old, new, key=lambda e: e.url):
        if previous is not None:
            if previous.url != entry.url:
                yield previous
            elif previous == entry:
                equal += 1
        previous = entry  # with equal urls the later one (from ``new``, merged second) wins
    if same is not None:
        same.append(equal)
    if previous is not None:
        yield previous


def sorted_entries(entries: Iterable[Entry], chunk: int = 200_000) -> Iterator[Entry]:
    """Entries sorted by url in bounded memory: sorted chunks spill to temporary files, then merge.

    Items come out of the layouts in completion order and natural order, not url order; a first sync of
    millions of objects must not sort them all in memory.
    """
    with tempfile.TemporaryDirectory(prefix="airflow-ingest-ledger-") as tmp:
        runs: list[Path] = []
        buffer: list[Entry] = []

        def spill() -> None:
            path = Path(tmp) / f"{len(runs):06d}.pickle"
            with path.open("wb") as out:
                buffer.sort(key=lambda e: e.url)
                pickle.dump(buffer, out, protocol=pickle.HIGHEST_PROTOCOL)
            runs.append(path)
            buffer.clear()

        for entry in entries:
            buffer.append(entry)
            if len(buffer) >= chunk:
                spill()
        if not runs:
            yield from sorted(buffer, key=lambda e: e.url)
            return
        if buffer:
            spill()

        def load(path: Path) -> Iterator[Entry]:
            with path.open("rb") as stream:
                yield from pickle.load(stream)

        yield from heapq.merge(*(load(path) for path in runs), key=lambda e: e.url)


LEDGER_FILE = re.compile(r"^ledger-(?P<run>.*)-(?P<ns>[0-9a-f]+)\.(?:tsv|jsonl)\.gz$")
"""A ledger file's name: ``ledger-{run}-{nanoseconds in hex}.tsv.gz`` (format 2; ``.jsonl.gz`` for format 1)."""


def ledger_file_name(run: str, ns: int) -> str:
    """The name of a new ledger file for ``run`` (already a safe path segment) committed at ``ns``."""
    return f"ledger-{run}-{ns:x}.tsv.gz"


def newest_first(names: Iterable[str]) -> list[str]:
    """The ledger files among ``names``, the most recently committed first (by the time in their names)."""
    found = [(int(match["ns"], 16), name) for name in names if (match := LEDGER_FILE.match(name))]
    return [name for _, name in sorted(found, reverse=True)]


CORRUPT = (ValueError, KeyError, TypeError, EOFError, gzip.BadGzipFile, zlib.error)
"""What reading a damaged ledger file raises (bad gzip, a cut stream, bad UTF-8 or JSON, a wrong line). Not
other ``OSError``s: a storage that fails to answer says nothing about the file, and is no reason to repair."""


def verify_entries(stream: IO[bytes]) -> int:
    """Read a whole ledger file and return its entry count; :class:`LedgerError` says what is wrong with it.

    What a repair asks of a file before pointing a head at it: it decompresses to the end, every line is an
    entry, and the entries are sorted and unique, as the selection's merge needs.
    """
    count = 0
    try:
        for _ in check_order(read_entries(stream)):
            count += 1
    except LedgerError:
        raise
    except CORRUPT as error:
        raise LedgerError(f"unreadable after {count} entries: {type(error).__name__}: {error}") from None
    return count
