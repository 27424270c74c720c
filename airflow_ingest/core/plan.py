"""The plan: objects -> items -> batches -> one manifest file per batch, in a single streaming pass.

Files are written through an ``opener`` the caller supplies (an Airflow ``ObjectStoragePath``, a local
folder in tests and the CLI), so this module stays free of Airflow and of any storage SDK. Beside the
manifests goes one index for the whole run (``items.jsonl``: each item's batch and objects, in batch
order); the report and the ledger read it, so the platform documents never carry our bookkeeping. One
index rather than one per batch halves the files a plan writes (thousands of PUTs on object storage).
"""

from __future__ import annotations

import json
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


SKIPPED_IN_PLAN = 1000
"""How many skipped objects ``plan.json`` lists; all of them are in ``skipped.jsonl``."""


class ManifestBuilder(Protocol):
    """A platform's documents: which items it takes, how many entries each counts as, one text per batch."""

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

    with opener("skipped.jsonl") as skipped_out:

        def skip(obj: StoredObject, reason: str) -> None:
            plan.objects += 1
            plan.bytes += obj.size
            record = {"url": obj.url, "reason": reason}
            skipped_out.write(_encode(record) + "\n")
            plan.skipped_count += 1
            if len(plan.skipped) < SKIPPED_IN_PLAN:
                plan.skipped.append(record)

        def items() -> Iterable[Item]:
            for entry in make_items(objects, layout, prefix):
                if isinstance(entry, Skipped):
                    skip(entry.object, entry.reason)
                    continue
                refused = builder.refuse(entry)
                if refused:
                    for obj in entry.objects:
                        skip(obj, f"item {entry.id} {refused}")
                    continue
                plan.items += 1
                plan.objects += len(entry.objects)
                yield entry

        with opener(INDEX) as index:
            offset = 0
            for batch in batch_items(items(), limits, builder.entries_of):
                path = manifest_name(batch.number, builder.suffix, manifest_dir)
                with opener(path) as out:
                    out.write(builder.render(batch))
                lines = "".join([index_line(item, batch.number) for item in batch.items])
                index.write(lines)
                info = BatchInfo(path, batch.entries, batch.bytes, batch.oversize, len(batch.items), offset)
                plan.batches.append(info)
                plan.bytes += batch.bytes
                offset += len(lines.encode("utf-8"))

    with opener("plan.json") as out:
        json.dump(plan.to_json(), out, indent=2, ensure_ascii=False)
    return plan


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
