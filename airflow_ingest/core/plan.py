"""The plan: objects -> items -> batches -> one manifest file per batch, in a single streaming pass.

Files are written through an ``opener`` the caller supplies (an Airflow ``ObjectStoragePath``, a local
folder in tests and the CLI), so this module stays free of Airflow and of any storage SDK. Beside the
manifests goes one index for the whole run (``items.jsonl``: each item's batch and objects, in batch
order); the report and the ledger read it, so the platform documents never carry our bookkeeping. One
index rather than one per batch halves the files a plan writes (thousands of PUTs on object storage).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from typing import IO, Any, Protocol

from airflow_ingest.core.batching import Batch, Limits, batch_items
from airflow_ingest.core.items import Item, Layout, Skipped, make_items
from airflow_ingest.core.objects import StoredObject

Opener = Callable[[str], AbstractContextManager[IO[str]]]
"""Opens a run-relative path such as ``manifests/batch-00001.json`` for writing text."""


def path_opener(base: Any) -> Opener:
    """An :data:`Opener` under any pathlib-like folder (``pathlib.Path``, Airflow's ``ObjectStoragePath``)."""
    made: set[str] = set()

    @contextmanager
    def open_text(relative: str) -> Iterator[IO[str]]:
        path = base / relative
        folder = relative.rpartition("/")[0]
        if folder not in made:  # one mkdir per folder, not one per file: a plan writes thousands of files
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(folder)
        with path.open("w", encoding="utf-8") as stream:
            yield stream

    return open_text


_PLAN_FILE = re.compile(r"^(plan\.json|items\.jsonl|skipped\.jsonl|batch-\d{5,}\.(json|csv))$")


def clear_plan(base: Any, manifest_dir: str = "manifests") -> int:
    """Remove an earlier plan's files from ``base`` (its own names only, ``plan.json`` first); return how many.

    A folder reused by a smaller plan would otherwise keep the old plan's higher-numbered batch files, which
    anyone reading the folder (or a later ``sync`` of it) would take for part of the new plan. Files the plan
    never writes are left alone.
    """
    removed = 0
    for folder in (base, base / manifest_dir) if manifest_dir else (base,):
        if not folder.is_dir():
            continue
        names = sorted((p for p in folder.iterdir() if _PLAN_FILE.match(p.name)), key=lambda p: p.name != "plan.json")
        for path in names:
            path.unlink()
            removed += 1
    return removed


SKIPPED_IN_PLAN = 1000
"""How many skipped objects ``plan.json`` lists; all of them are in ``skipped.jsonl``."""


class ManifestBuilder(Protocol):
    """A platform's documents: which items it takes, how many entries each counts as, one text per batch.

    A builder may also have ``weigh(item) -> (entries, bytes)`` (its entries and at most how many bytes of
    manifest it takes, for platforms that limit a document's size) and ``split(item) -> list[Item]`` (the smaller items
    the document lets an item be sent as); :func:`make_plan` uses them when they are there.
    """

    platform: str
    suffix: str

    def refuse(self, item: Item) -> str | None: ...

    def entries_of(self, item: Item) -> int: ...

    def render(self, batch: Batch) -> str: ...


@dataclass(frozen=True, slots=True)
class BatchInfo:
    """A batch as ``plan.json`` records it; ``index_offset`` is where its items start in ``items.jsonl`` (bytes)."""

    path: str
    entries: int
    bytes: int
    oversize: bool = False
    items: int = 0
    index_offset: int = 0


@dataclass(slots=True)
class Plan:
    platform: str
    objects: int = 0
    items: int = 0
    bytes: int = 0
    skipped_count: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    batches: list[BatchInfo] = field(default_factory=list)
    target: dict[str, Any] = field(default_factory=dict)
    """The platform target the manifests were written for, completed (region, account): registration needs it."""
    rejected: list[str] = field(default_factory=list)
    """One line per item no batch can hold (first :data:`SKIPPED_IN_PLAN`): its objects are in ``skipped``."""

    def to_json(self) -> dict[str, object]:
        return {
            "platform": self.platform,
            "target": self.target,
            "objects": self.objects,
            "items": self.items,
            "bytes": self.bytes,
            "skipped_count": self.skipped_count,
            "skipped": self.skipped,
            "batches": [asdict(b) for b in self.batches],
            "rejected": self.rejected,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Plan:
        plan = cls(platform=str(data["platform"]))
        plan.objects = int(data["objects"])  # type: ignore[call-overload]
        plan.items = int(data["items"])  # type: ignore[call-overload]
        plan.bytes = int(data.get("bytes", 0))  # type: ignore[call-overload]
        plan.skipped_count = int(data.get("skipped_count", 0))  # type: ignore[call-overload]
        plan.skipped = list(data.get("skipped", []))  # type: ignore[call-overload]
        plan.batches = [BatchInfo(**b) for b in data["batches"]]  # type: ignore[attr-defined]
        plan.target = dict(data.get("target") or {})  # type: ignore[call-overload]
        plan.rejected = [str(line) for line in data.get("rejected") or []]  # type: ignore[attr-defined]
        return plan


def manifest_name(number: int, suffix: str, folder: str = "manifests") -> str:
    return f"{folder}/batch-{number:05d}{suffix}" if folder else f"batch-{number:05d}{suffix}"


_encode = json.JSONEncoder(ensure_ascii=False).encode
"""One encoder for every line: ``json.dumps`` with options builds a new encoder on each call."""


_quote = json.encoder.encode_basestring  # the C string escaper json itself uses


INDEX = "items.jsonl"


def index_line(item: Item, batch: int) -> str:
    """``{"batch", "item", "objects": [{"url", "etag", "size"}]}`` as one JSON line, built directly (millions)."""
    members = item.objects
    if len(members) == 1:  # most items are one file: skip the generator and the join
        o = members[0]
        objects = f'{{"url":{_quote(o.url)},"etag":{_quote(o.etag)},"size":{int(o.size)}}}'
    else:
        objects = ",".join([f'{{"url":{_quote(o.url)},"etag":{_quote(o.etag)},"size":{int(o.size)}}}' for o in members])
    return f'{{"batch":{batch},"item":{_quote(item.id)},"objects":[{objects}]}}\n'


def make_plan(
    objects: Iterable[StoredObject],
    builder: ManifestBuilder,
    limits: Limits,
    opener: Opener,
    *,
    layout: Layout | str = Layout.FILE,
    prefix: str = "",
    manifest_dir: str = "manifests",
) -> Plan:
    """Group with ``layout``, batch under ``limits``, write every manifest; return the plan (also ``plan.json``).

    One pass over ``objects``: memory holds the open items and one batch. Objects that become no item,
    and items the platform refuses, are written to ``skipped.jsonl`` with the reason.
    """
    target = getattr(builder, "target", None)
    plan = Plan(platform=builder.platform, target=target.model_dump(mode="json") if target is not None else {})
    weigh = getattr(builder, "weigh", None)
    max_document = limits.max_document_bytes if weigh is not None else None

    with opener("skipped.jsonl") as skipped_out:

        def skip(obj: StoredObject, reason: str) -> None:
            plan.objects += 1
            plan.bytes += obj.size
            record = {"url": obj.url, "reason": reason}
            skipped_out.write(_encode(record) + "\n")
            plan.skipped_count += 1
            if len(plan.skipped) < SKIPPED_IN_PLAN:
                plan.skipped.append(record)

        def reject(item: Item, reason: str) -> None:
            for obj in item.objects:
                skip(obj, f"item {item.id} {reason}")

        def unbatchable(item: Item, reason: str) -> None:
            plan.objects -= len(item.objects)  # counted as it passed; skip() counts its objects again
            reject(item, reason)
            if len(plan.rejected) < SKIPPED_IN_PLAN:
                plan.rejected.append(f"item {item.id} {reason}")

        def items() -> Iterable[Item]:
            for entry in make_items(objects, layout, prefix):
                if isinstance(entry, Skipped):
                    skip(entry.object, entry.reason)
                    continue
                refused = builder.refuse(entry)
                if refused:
                    reject(entry, refused)
                    continue
                plan.objects += len(entry.objects)
                yield entry

        batches = batch_items(
            items(),
            limits,
            builder.entries_of,
            weigh=weigh,
            split=getattr(builder, "split", None),
            reject=unbatchable,
        )
        with opener(INDEX) as index:
            offset = 0
            for batch in _measured(batches, builder, max_document, unbatchable):
                batch.number = len(plan.batches) + 1  # renumbered: a batch the measure split holds two numbers
                path = manifest_name(batch.number, builder.suffix, manifest_dir)
                with opener(path) as out:
                    out.write(batch.text)
                lines = "".join([index_line(item, batch.number) for item in batch.items])
                index.write(lines)
                info = BatchInfo(path, batch.entries, batch.bytes, batch.oversize, len(batch.items), offset)
                plan.batches.append(info)
                plan.bytes += batch.bytes
                plan.items += len(batch.items)
                offset += len(lines.encode("utf-8"))

    with opener("plan.json") as out:
        json.dump(plan.to_json(), out, indent=2, ensure_ascii=False)
    return plan


@dataclass(slots=True)
class _Rendered:
    """A batch and its manifest's text, as written."""

    number: int
    items: list[Item]
    entries: int
    bytes: int
    oversize: bool
    text: str


def _measured(
    batches: Iterable[Batch], builder: ManifestBuilder, max_document: int | None, reject: Callable[[Item, str], None]
) -> Iterator[_Rendered]:
    """Render each batch; where a document limit holds, measure the text and halve a batch that exceeds it.

    Batching counts each item's manifest bytes from an estimate made before anything is rendered (so memory
    stays at one batch); this checks the bytes actually written, so no estimate can let a document past the
    platform's limit. An item whose own document exceeds it is rejected with a reason.
    """
    for batch in batches:
        text = builder.render(batch)
        if max_document is None or len(text) <= max_document // 4 or len(text.encode("utf-8")) <= max_document:
            yield _Rendered(batch.number, batch.items, batch.entries, batch.bytes, batch.oversize, text)
            continue
        del text
        if len(batch.items) == 1:
            reject(batch.items[0], f"needs a manifest over the {max_document:,} bytes a document may hold")
            continue
        half = len(batch.items) // 2
        entries_of = builder.entries_of
        parts = [batch.items[:half], batch.items[half:]]
        yield from _measured(
            [
                Batch(batch.number, part, sum(i.size for i in part), sum(entries_of(i) for i in part), batch.oversize)
                for part in parts
            ],
            builder,
            max_document,
            reject,
        )


def read_batch_index(base: Any, batch: BatchInfo) -> list[dict[str, Any]]:
    """One batch's lines of ``items.jsonl`` (``{"batch", "item", "objects"}``), read from its offset.

    A register task needs its own items only; seeking keeps that one batch's worth of reading, not the run's.
    """
    with (base / INDEX).open("rb") as stream:
        stream.seek(batch.index_offset)
        return [json.loads(stream.readline()) for _ in range(batch.items)]


REGISTER_TASKS = 16
"""How many register tasks a plan is shared among by default: the width of the mapped register task."""


def batch_ranges(batches: int, tasks: int = REGISTER_TASKS) -> list[list[int]]:
    """Batches ``1..batches`` as at most ``tasks`` contiguous ranges ``[first, last]``, sizes differing by one at most.

    The register task maps over these, not over one entry per batch: the plan's XCom stays a few hundred
    bytes for a plan of any size, and the number of mapped tasks stays under Airflow's ``max_map_length``.
    """
    if tasks < 1:
        raise ValueError(f"register_tasks={tasks} is invalid: give 1 or more")
    count = min(batches, tasks)
    ranges, first = [], 1
    for part in range(count):
        size = batches // count + (1 if part < batches % count else 0)
        ranges.append([first, first + size - 1])
        first += size
    return ranges
