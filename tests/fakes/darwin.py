"""A fake V7 Darwin as strict as the documented API, served over HTTP, with fault injection.

What it enforces (from V7's registration guide, ``shared/seeds/004``, and API reference; one test per rule in
``tests/conformance/test_darwin_rules.py``):
- ``Authorization: ApiKey <key>`` on every call; a key for another team is refused.
- ``register_existing`` bodies (single-file items or multi-slot ``slots`` items): unknown or missing fields, an
  empty item list or more than 100 items, non-DICOM files sharing a slot, an unknown ``type``, a slot without
  ``type`` whose ``file_name`` has no known extension, a ``file_name`` that is not the last part of its
  ``storage_key``, a ``storage_key`` starting with ``/``, a ``path`` not starting with ``/``, ``fps`` on a
  non-video, ``extract_views`` on a slot other than ``"0"``, an option other than ``ignore_dicom_layout``: 400.
- Bodies zlib-compressed with ``X-Darwin-Payload-Compression-Version: 1`` (darwin-py's
  ``global/payload_compression_level``) are read like plain JSON; another version or a body that does not
  inflate: 400.
- ``register_existing_readonly`` bodies: the same, plus ``width``/``height``/``storage_thumbnail_key`` on every
  image and ``sections[]`` (``section_index`` 1..n, ``height``, ``width``, ``storage_hq_key``, ``storage_lq_key``)
  on every video; ``fps`` refused. With ``configure(bucket={"endpoint_url", "bucket"})`` every referenced
  thumbnail and frame key is HEAD-checked with boto3; a missing one blocks the item (``FILE_NOT_FOUND``).
- Unknown dataset: 404. Unknown storage connection: 400.
- The calls darwin-py 3.6 makes before registering: ``GET /api/users/token_info``, ``GET /api/datasets`` (each
  entry with ``id``, ``name``, ``slug``, ``progress``, ``num_items``...), ``GET /api/teams/{team}/storage``
  (``name``, ``prefix``, ``readonly``, ``provider``, ``default``, ``bucket``, ``region``; settings
  ``readonly_storages`` and ``list_storage``).
- More requests than ``rpm`` in a sliding minute: 429 with ``Retry-After``.
- A (path, name) already in the dataset comes back in ``blocked_items`` with ``ALREADY_EXISTS``; names
  matching a configured pattern are blocked with a configured reason.

Control (no auth, for tests and the demo): ``POST /_fake/configure``, ``POST /_fake/reset``,
``GET /_fake/state``. Faults are scripted per request: ``{"status": 500}``, ``{"status": 429,
"retry_after": 1}``, ``{"delay": 3}`` (slow answer), ``{"status": 500, "after_commit": true}`` (register,
then answer 500 as a lost response would look), ``{"malformed": true}`` and ``{"reset": true}`` (register,
then cut the answer off mid-JSON or reset the connection mid-body). The setting ``latency_ms`` delays every registration
by that much, as the round trip to V7 over the internet would (for benchmarks); a reset sets it back to 0.

Run on its own: ``python -m tests.fakes.darwin --port 8765 --api-key KEY --team demo-team``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import re
import threading
import time
import zlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tests.fakes.control import BrokenAnswer, add_control_routes

MAX_ITEMS = 100


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


FileType = Literal["image", "video", "pdf", "dicom"]

# What V7 infers a slot's type from when ``type`` is left out ("our processing pipeline infers the filetype from
# the extension of file_name"). The guide names no list; these are the extensions V7's own client, darwin-py,
# sends (darwin/utils/utils.py), compared without case as V7's pipeline does not publish one.
_IMAGE = (".png", ".jpeg", ".jpg", ".jfif", ".tif", ".tiff", ".qtiff", ".bmp", ".svs", ".webp")
_VIDEO = (".avi", ".bpm", ".mov", ".mp4", ".mkv", ".hevc", ".nii", ".nii.gz", ".ndpi", ".rvg")
EXTENSION_TYPES: dict[str, FileType] = {
    **dict.fromkeys(_IMAGE, "image"),
    **dict.fromkeys(_VIDEO, "video"),
    ".pdf": "pdf",
    ".dcm": "dicom",
}


def type_from_name(file_name: str) -> FileType | None:
    lowered = file_name.lower()
    return next((kind for ext, kind in EXTENSION_TYPES.items() if lowered.endswith(ext) and lowered != ext), None)


class RegisterSlot(_Strict):
    """One file of a multi-slot item; DICOM slices of a series share a ``slot_name``.

    ``type`` may be left out when ``file_name`` carries the extension (the guide's multi-slot section).
    """

    slot_name: str = Field(min_length=1)
    type: FileType | None = None
    storage_key: str = Field(min_length=1)
    file_name: str = Field(min_length=1)
    fps: float | None = Field(default=None, gt=0)
    extract_views: Literal["true", "false"] | None = None

    @property
    def kind(self) -> FileType | None:
        return self.type or type_from_name(self.file_name)


_Item = TypeVar("_Item", "RegisterItem", "ReadonlyItem")


def _one_shape(item: _Item) -> _Item:
    """V7's rule for both endpoints: a single file (type and storage_key) or slots, never both or neither."""
    single = item.type is not None and item.storage_key is not None
    if single == (item.slots is not None) or (item.slots is not None and (item.type or item.storage_key)):
        raise ValueError("an item has either type and storage_key, or slots")
    return item


class RegisterItem(_Strict):
    """A single-file item (``type`` + ``storage_key``) or a multi-slot one (``slots``), never both."""

    path: str = "/"
    name: str = Field(min_length=1)
    type: FileType | None = None
    storage_key: str | None = Field(default=None, min_length=1)
    fps: float | None = Field(default=None, gt=0)
    extract_views: Literal["true", "false"] | None = None
    slots: list[RegisterSlot] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_shape(self) -> RegisterItem:
        return _one_shape(self)

    def files(self) -> list[RegisterSlot]:
        if self.slots is not None:
            return self.slots
        one = {"slot_name": "0", "file_name": self.name, "storage_key": self.storage_key, "type": self.type}
        return [RegisterSlot.model_validate({**one, "fps": self.fps, "extract_views": self.extract_views})]


class ReadonlySection(_Strict):
    section_index: int = Field(ge=1)
    height: int = Field(gt=0)
    width: int = Field(gt=0)
    storage_hq_key: str = Field(min_length=1)
    storage_lq_key: str = Field(min_length=1)


class _ReadonlyFile(_Strict):
    """What ``register_existing_readonly`` takes about one file: V7 reads nothing itself, so the size, the
    thumbnail and (videos) the frame sections are required; ``fps`` is refused (``native_fps`` says the rate)."""

    storage_thumbnail_key: str | None = None
    height: int | None = Field(default=None, gt=0)
    width: int | None = Field(default=None, gt=0)
    native_fps: float | None = Field(default=None, gt=0)
    sections: list[ReadonlySection] | None = Field(default=None, min_length=1)
    # darwin-py's read-only video form (register_single_slotted_readonly_videos, its "ReadOnlyVideoSlot"): HLS
    # segments and a frames manifest instead of the guide's per-frame sections.
    visible_frames: int | None = Field(default=None, ge=0)
    total_frames: int | None = Field(default=None, ge=0)
    hls_segments: dict[str, Any] | None = None
    storage_sections_key_prefix: str | None = None
    storage_sections_key_extension: str | None = None
    storage_low_quality_sections_key_prefix: str | None = None
    storage_frames_manifest_key: str | None = None
    storage_audio_peaks_key: str | None = None
    size_bytes: int | None = Field(default=None, ge=0)

    def problem(self, kind: str | None) -> str | None:
        if not self.storage_thumbnail_key:
            return "storage_thumbnail_key is required for read-only items"
        hls = {name: getattr(self, name) for name in _HLS_ONLY}
        if kind == "video":
            if any(value is not None for value in hls.values()):
                missing = [name for name in _HLS_REQUIRED if getattr(self, name) is None]
                return f"a read-only HLS video also needs {', '.join(missing)}" if missing else None
            if not self.sections:
                return "a read-only video needs sections (its extracted frames)"
            if [s.section_index for s in self.sections] != list(range(1, len(self.sections) + 1)):
                return "section_index must count 1, 2, 3, ... in order"
        elif kind in ("image", "pdf"):
            if self.width is None or self.height is None:
                return "width and height are required for read-only images"
            if self.sections is not None or any(v is not None for v in [self.native_fps, *hls.values()]):
                return "sections, native_fps and HLS fields are only valid for videos"
        else:
            return f"type {kind!r} cannot be registered read-only"
        return None

    def referenced_keys(self) -> list[str]:
        found = [k for k in (self.storage_thumbnail_key, self.storage_frames_manifest_key) if k]
        for section in self.sections or []:
            found += [section.storage_hq_key, section.storage_lq_key]
        return found


_HLS_REQUIRED = (
    "width",
    "height",
    "native_fps",
    "visible_frames",
    "total_frames",
    "hls_segments",
    "storage_sections_key_prefix",
    "storage_frames_manifest_key",
)
"""What darwin-py's read-only video form requires beside the slot's name, file and thumbnail (its own list)."""
_HLS_ONLY = (
    "visible_frames",
    "total_frames",
    "hls_segments",
    "storage_sections_key_prefix",
    "storage_sections_key_extension",
    "storage_low_quality_sections_key_prefix",
    "storage_frames_manifest_key",
    "storage_audio_peaks_key",
)


class ReadonlySlot(_ReadonlyFile):
    slot_name: str = Field(min_length=1)
    type: FileType
    storage_key: str = Field(min_length=1)
    file_name: str = Field(min_length=1)


class ReadonlyItem(_ReadonlyFile):
    path: str = "/"
    name: str = Field(min_length=1)
    type: FileType | None = None
    storage_key: str | None = Field(default=None, min_length=1)
    slots: list[ReadonlySlot] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_shape(self) -> ReadonlyItem:
        return _one_shape(self)

    def files(self) -> list[RegisterSlot]:
        if self.slots is not None:
            return [RegisterSlot.model_validate(s.model_dump(include=_SLOT_FIELDS)) for s in self.slots]
        one = {"slot_name": "0", "file_name": self.name, "storage_key": self.storage_key, "type": self.type}
        return [RegisterSlot.model_validate(one)]

    def readonly_files(self) -> list[tuple[str | None, _ReadonlyFile]]:
        if self.slots is not None:
            return [(s.type, s) for s in self.slots]
        return [(self.type, self)]


_SLOT_FIELDS = {"slot_name", "type", "storage_key", "file_name"}


class Options(_Strict):
    """The guide's one documented option: keep DICOM slices in the order sent, each file a slice."""

    ignore_dicom_layout: bool


class RegisterBody(_Strict):
    items: list[RegisterItem] = Field(min_length=1)
    dataset_slug: str = Field(min_length=1)
    storage_slug: str = Field(min_length=1)
    options: Options | None = None


class ReadonlyBody(_Strict):
    items: list[ReadonlyItem] = Field(min_length=1)
    dataset_slug: str = Field(min_length=1)
    storage_slug: str = Field(min_length=1)
    options: Options | None = None


@dataclass
class FakeDarwinState:
    api_key: str = "fake-darwin-key"
    team: str = "demo-team"
    datasets: set[str] = field(default_factory=lambda: {"demo-dataset"})
    storages: set[str] = field(default_factory=lambda: {"demo-storage"})
    rpm: int | None = None
    latency_ms: float = 0.0
    list_storage: bool = True
    """False: ``GET /api/teams/{team}/storage`` answers 403, as for a key without the right to list storage."""
    readonly_storages: set[str] = field(default_factory=set)
    block: dict[str, str] = field(default_factory=dict)
    bucket: dict[str, str] | None = None
    """``{"endpoint_url", "bucket"}``: where read-only items' thumbnail and frame keys must exist (HEAD)."""
    faults: deque[dict[str, Any]] = field(default_factory=deque)
    registered: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    """Every API call as ``"METHOD /path"`` (the control routes aside): which calls a client made, in order."""
    window: deque[float] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def configure(self, settings: dict[str, Any]) -> None:
        with self.lock:
            for name in ("api_key", "team", "rpm", "latency_ms", "list_storage"):
                if name in settings:
                    setattr(self, name, settings[name])
            for name in ("datasets", "storages", "readonly_storages"):
                if name in settings:
                    setattr(self, name, set(settings[name]))
            if "block" in settings:
                self.block = dict(settings["block"])
            if "bucket" in settings:
                self.bucket = dict(settings["bucket"]) if settings["bucket"] else None
            if "faults" in settings:
                self.faults = deque(settings["faults"])

    def reset(self) -> None:
        with self.lock:
            self.registered.clear()
            self.requests.clear()
            self.calls.clear()
            self.window.clear()
            self.faults.clear()
            self.block.clear()
            self.bucket = None
            self.rpm = None
            self.latency_ms = 0.0
            self.list_storage = True
            self.readonly_storages.clear()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "registered": [
                    {"dataset": d, "path": p, "name": n, **record} for (d, p, n), record in self.registered.items()
                ],
                "requests": list(self.requests),
                "calls": list(self.calls),
                "faults_left": len(self.faults),
            }


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"errors": {"code": code, "message": message}}, status_code=status, headers=headers)


def create_app(state: FakeDarwinState) -> FastAPI:
    app = FastAPI(title="fake V7 Darwin")

    @app.middleware("http")
    async def record(request: Request, call_next: Any) -> Any:
        if request.url.path.startswith("/api/"):
            state.calls.append(f"{request.method} {request.url.path}")
        return await call_next(request)

    def authorized(request: Request) -> JSONResponse | None:
        header = request.headers.get("authorization", "")
        if header != f"ApiKey {state.api_key}":
            return _error(401, "UNAUTHORIZED", "invalid or missing API key")
        return None

    @app.get("/api/users/token_info")
    def token_info(request: Request) -> Any:
        return authorized(request) or {"selected_team": {"slug": state.team}, "teams": [{"slug": state.team}]}

    @app.get("/api/datasets")
    def datasets(request: Request) -> Any:
        """The team's datasets with the fields darwin-py's ``list_remote_datasets`` reads (the web app links by id).

        darwin-py requires ``id``, ``name``, ``slug`` and ``progress`` and counts items from ``num_items``.
        """
        with state.lock:
            counts = {slug: sum(1 for d, _, _ in state.registered if d == slug) for slug in state.datasets}
        listed = [
            {"id": n, "slug": slug, "name": slug, "progress": 0.0, "num_items": counts[slug], "archived": False}
            for n, slug in enumerate(sorted(state.datasets), start=1)
        ]
        return authorized(request) or listed

    @app.get("/api/teams/{team}/storage")
    def storage(team: str, request: Request) -> Any:
        """The team's storage connections as darwin-py's ``list_external_storage_connections`` reads them."""
        denied = authorized(request)
        if denied is not None:
            return denied
        if team != state.team or not state.list_storage:
            return _error(403, "FORBIDDEN", f"the API key may not list the storage connections of team {team!r}")
        return [
            {
                "name": name,
                "prefix": "darwin",
                "readonly": name in state.readonly_storages,
                "provider": "aws",
                "default": n == 0,
                "bucket": name,
                "region": "us-east-1",
            }
            for n, name in enumerate(sorted(state.storages))
        ]

    @app.post("/api/v2/teams/{team}/items/register_existing")
    async def register_existing(team: str, request: Request) -> Any:
        raw = await request.body()
        if state.latency_ms:  # awaited, not slept: concurrent requests each wait their own round trip
            await asyncio.sleep(state.latency_ms / 1000)
        return _register(state, team, request, raw, authorized)

    @app.post("/api/v2/teams/{team}/items/register_existing_readonly")
    async def register_existing_readonly(team: str, request: Request) -> Any:
        raw = await request.body()
        return await asyncio.to_thread(_register, state, team, request, raw, authorized, readonly=True)

    add_control_routes(app, state)

    return app


def _register(
    state: FakeDarwinState, team: str, request: Request, raw: bytes, authorized: Any, *, readonly: bool = False
) -> Any:
    compressed = request.headers.get("x-darwin-payload-compression-version") is not None
    log: dict[str, Any] = {"at": time.time(), "status": 200, "items": 0, "readonly": readonly, "compressed": compressed}
    state.requests.append(log)

    def answer(response: JSONResponse) -> JSONResponse:
        log["status"] = response.status_code
        return response

    denied = authorized(request)
    if denied is not None:
        return answer(denied)
    if team != state.team:
        return answer(_error(403, "FORBIDDEN", f"the API key has no access to team {team!r}"))

    with state.lock:
        now = time.monotonic()
        while state.window and now - state.window[0] >= 60:
            state.window.popleft()
        if state.rpm is not None and len(state.window) >= state.rpm:
            wait = math.ceil(60 - (now - state.window[0]))
            return answer(_error(429, "RATE_LIMITED", "too many requests", {"Retry-After": str(max(wait, 1))}))
        state.window.append(now)
        fault = state.faults.popleft() if state.faults else {}

    if fault.get("delay"):
        time.sleep(float(fault["delay"]))
    status = fault.get("status")
    if status and not fault.get("after_commit"):
        headers = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else None
        return answer(_error(int(status), "INJECTED", "injected fault", headers))

    try:
        raw = _inflated(raw, request.headers.get("x-darwin-payload-compression-version"))
        body: RegisterBody | ReadonlyBody = (ReadonlyBody if readonly else RegisterBody).model_validate(json.loads(raw))
    except (ValueError, ValidationError) as error:
        detail = (
            error.errors(include_url=False, include_context=False) if isinstance(error, ValidationError) else str(error)
        )
        return answer(JSONResponse({"errors": {"code": "VALIDATION", "detail": detail}}, status_code=400))
    log["items"] = len(body.items)
    if len(body.items) > MAX_ITEMS:
        return answer(_error(400, "TOO_MANY_ITEMS", f"at most {MAX_ITEMS} items per request"))
    for item in body.items:
        problem = item_problem(item) or (_readonly_problem(item) if isinstance(item, ReadonlyItem) else None)
        if problem:
            return answer(_error(400, "VALIDATION", f"{item.name}: {problem}"))
    if body.dataset_slug not in state.datasets:
        return answer(_error(404, "NOT_FOUND", f"dataset {body.dataset_slug!r} not found"))
    if body.storage_slug not in state.storages:
        return answer(_error(400, "STORAGE_NOT_FOUND", f"storage {body.storage_slug!r} not found"))

    missing = _missing_keys(state.bucket, body.items) if readonly else {}
    registered, blocked = [], []
    with state.lock:
        for item in body.items:
            key = (body.dataset_slug, item.path, item.name)
            files = item.files()
            slots = [{**f.model_dump(include={"slot_name", "file_name", "storage_key"}), "type": f.kind} for f in files]
            reason = "ALREADY_EXISTS" if key in state.registered else _blocked_reason(state.block, item.name)
            reason = reason or missing.get(item.name)
            if reason:
                blocked.append(
                    {"name": item.name, "path": item.path, "slots": [{**s, "reason": reason} for s in slots]}
                )
                continue
            ident = f"item-{next(state.ids)}"
            first = slots[0]
            state.registered[key] = {"id": ident, "storage_key": first["storage_key"], "type": first["type"]}
            state.registered[key]["sent"] = item.model_dump(exclude_none=True)  # the item exactly as received
            if isinstance(item, ReadonlyItem):
                state.registered[key]["readonly"] = item.model_dump(exclude_none=True, exclude={"path", "name"})
            if len(slots) > 1:
                state.registered[key]["slots"] = slots
            registered.append({"id": ident, "name": item.name, "path": item.path, "slots": slots})
    if status:
        return answer(_error(int(status), "INJECTED", "injected fault after commit"))
    if fault.get("malformed"):  # committed, then an answer cut off mid-JSON
        log["status"] = "malformed"
        return Response(b'{"items": [{"id": "item-', media_type="application/json")
    if fault.get("reset"):  # committed, then the connection is cut mid-answer
        log["status"] = "reset"
        return BrokenAnswer()
    return answer(JSONResponse({"items": registered, "blocked_items": blocked}))


def _inflated(raw: bytes, version: str | None) -> bytes:
    """The JSON of a body darwin-py may have zlib-compressed (``X-Darwin-Payload-Compression-Version: 1``)."""
    if version is None:
        return raw
    if version != "1":
        raise ValueError(f"unknown X-Darwin-Payload-Compression-Version {version!r}")
    try:
        return zlib.decompress(raw)
    except zlib.error as error:
        raise ValueError(f"the body does not inflate with zlib: {error}") from None


def _readonly_problem(item: ReadonlyItem) -> str | None:
    for kind, described in item.readonly_files():
        problem = described.problem(kind)
        if problem:
            return problem
    return None


def _missing_keys(bucket: dict[str, str] | None, items: Sequence[RegisterItem | ReadonlyItem]) -> dict[str, str]:
    """Each item whose thumbnail or frame keys are not in the bucket, with V7's kind of reason (HEAD per key).

    V7 reads these files from the customer's bucket and refuses an item whose files are not there.
    """
    if not bucket:
        return {}
    import boto3
    from botocore.exceptions import ClientError

    client = boto3.client(
        "s3",
        endpoint_url=bucket["endpoint_url"],
        region_name=bucket.get("region", "us-east-1"),
        aws_access_key_id=bucket.get("access_key", "testing"),
        aws_secret_access_key=bucket.get("secret_key", "testing"),
    )
    missing: dict[str, str] = {}
    for item in items:
        if not isinstance(item, ReadonlyItem):
            continue
        for _, described in item.readonly_files():
            for key in described.referenced_keys():
                try:
                    client.head_object(Bucket=bucket["bucket"], Key=key)
                except ClientError:
                    missing[item.name] = f"FILE_NOT_FOUND: {key} is not in the storage bucket"
                    break
            if item.name in missing:
                break
    return missing


def item_problem(item: RegisterItem | ReadonlyItem) -> str | None:
    """The guide's rules on one item that a schema cannot say; the first one broken, or None."""
    if not item.path.startswith("/"):
        return "path must start with /"
    files = item.files()
    for f in files:
        if f.storage_key.startswith("/"):
            return "storage_key cannot start with a forward slash"
        if f.kind is None:
            return f"slot {f.slot_name!r}: type is required, file_name {f.file_name!r} has no known extension"
        if f.fps is not None and f.kind != "video":
            return "fps is only valid for videos"
        if item.slots is None:
            continue  # a single-file item has no file_name and one slot, "0"
        if f.file_name != f.storage_key.rpartition("/")[2]:
            return f"slot {f.slot_name!r}: file_name {f.file_name!r} must be the last part of storage_key"
        if f.extract_views == "true" and f.slot_name != "0":
            return f'slot {f.slot_name!r}: extract_views needs slot_name "0"'
    by_slot: dict[str, list[RegisterSlot]] = {}
    for f in files:
        by_slot.setdefault(f.slot_name, []).append(f)
    shared = [group for group in by_slot.values() if len(group) > 1]
    if isinstance(item, ReadonlyItem) and shared:
        return "no two files can be registered to the same slot read-only"
    if any(f.kind != "dicom" for group in shared for f in group):
        return "only DICOM slices may share a slot"
    return None


def _blocked_reason(block: dict[str, str], name: str) -> str | None:
    return next((reason for pattern, reason in block.items() if re.search(pattern, name)), None)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", default="fake-darwin-key")
    parser.add_argument("--team", default="demo-team")
    parser.add_argument("--dataset", action="append", default=None)
    parser.add_argument("--storage", action="append", default=None)
    args = parser.parse_args()
    state = FakeDarwinState(api_key=args.api_key, team=args.team)
    if args.dataset:
        state.datasets = set(args.dataset)
    if args.storage:
        state.storages = set(args.storage)
    uvicorn.run(create_app(state), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
