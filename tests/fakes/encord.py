"""A fake Encord as strict as the documented API, over HTTP, serving exactly what the SDK calls for upload jobs.

Endpoints (from encord 0.1.211: ``storage.py``, ``client.py``, ``user_client.py``, ``http/querier.py``,
``http/v2/api_client.py``):
- v2 REST under ``/v2/public``: ``GET storage/folders/{uuid}``, ``POST storage/folders/{uuid}/data-upload-jobs``
  (body ``PostUploadJobParams``, camelCase; answers the job's UUID as a JSON string), ``GET
  storage/folders/{uuid}/data-upload-jobs/{job}?timeoutSeconds=N`` (a long poll answering
  ``UploadLongPollingState``), ``POST storage/folders/{uuid}/data-upload-jobs/{job}/cancel`` (answers
  ``{"unitsCancelledCount"}``), ``GET cloud-integrations``. Requests are signed per RFC 9421 (``Signature``,
  ``Signature-Input`` label ``encord-sig``, ``Content-Digest``) with the configured Ed25519 key, or carry a
  configured ``Authorization: Bearer`` token.
- v1 querier ``POST /public`` (``{"query_type", "query_method", "values": {"uid", "payload"}}``, answers in
  the envelope ``{"status", "response", "payload"}``, snake_case): ``dataset`` GET, ``datasetdatalongpolling``
  POST (start) and GET (long poll). Signed ``Authorization: <pubkey hex>:<sig hex>`` over sha256(body).

What a job may hold is checked in ``tests/fakes/encord_spec.py``, rule by rule: the JSON spec of Encord's
private-cloud documents (``externalFiles`` for folders, ``files`` for datasets) and, for folders, the SDK's
structured ``dataItems``. Any breach, or an unknown integration: 400 naming the rule, and no job.

Jobs run in the background, one at a time per destination in start order, one unit (entry) every
``job_seconds / units``: a unit whose URL matches a configured pattern fails with the configured text;
with ``skip_duplicate_urls`` (top-level or on the entry) a unit whose URLs are all registered already is
skipped (counted done, not added: Encord documents no other report of skipped URLs); otherwise it is
registered. ``ignore_errors=False``
ends the job in ERROR at the first unit error. Scripted jobs end CANCELLED or ERROR after N units.

Control (no auth): ``POST /_fake/configure``, ``POST /_fake/reset``, ``GET /_fake/state``. Faults are
scripted per request, each for a ``route`` (``start``, ``poll``, ``cancel``, ``open``, ``any``): ``{"status": 500}``,
``{"status": 429, "retry_after": 1}``, ``{"delay": 3}`` (a start is committed before the delay),
``{"status": 500, "after_commit": true}``, ``{"malformed": true}``, ``{"reset": true}`` (the answer breaks
off mid-body).

Run on its own: ``python -m tests.fakes.encord --port 8766 --public-key HEX``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import re
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fakes.control import BrokenAnswer, add_control_routes
from tests.fakes.encord_spec import MAX_ENTRIES, Refused, Unit, items_units, spec_units
from tests.harness import FakeService, free_port

FOLDER = "11111111-2222-4333-8444-555555555555"
DATASET = "66666666-7777-4888-9999-000000000000"
INTEGRATION = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


@dataclass
class Job:
    id: str
    destination: str
    units: list[Unit]
    ignore_errors: bool
    script: dict[str, Any]
    created: float
    started: float | None = None
    status: str = "PENDING"
    added: list[dict[str, str]] = field(default_factory=list)
    unit_errors: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    processed: int = 0

    def counts(self) -> dict[str, int]:
        states = [u.state for u in self.units]
        return {s: states.count(s) for s in ("PENDING", "DONE", "ERROR", "CANCELLED")}


@dataclass
class FakeEncordState:
    public_key: str = ""
    bearer_tokens: set[str] = field(default_factory=set)
    folders: set[str] = field(default_factory=lambda: {FOLDER})
    datasets: set[str] = field(default_factory=lambda: {DATASET})
    integrations: dict[str, str] = field(default_factory=lambda: {INTEGRATION: "demo-bucket"})
    strict_integrations: set[str] = field(default_factory=set)
    """Integrations set to "Strict client-only access": Encord may not read the files, so entries need metadata."""
    job_seconds: float = 0.5
    max_entries: int = MAX_ENTRIES
    max_long_poll: float = 60.0
    unit_errors: dict[str, str] = field(default_factory=dict)
    faults: list[dict[str, Any]] = field(default_factory=list)
    job_scripts: deque[dict[str, Any]] = field(default_factory=deque)
    registered: dict[str, dict[str, int]] = field(default_factory=dict)
    held_kinds: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    """(data type, URL) per destination, what ``skip_duplicate_urls`` compares against."""
    items: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    """Item uuid -> (destination, URLs) of every item a job added (``imageGroupsFromItems`` names them)."""
    uploads: list[dict[str, Any]] = field(default_factory=list)
    """What each accepted start asked for, as received: ``{"destination", "kind", "content"}``."""
    jobs: dict[str, Job] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, settings: dict[str, Any]) -> None:
        with self.lock:
            for name in ("public_key", "job_seconds", "max_entries", "max_long_poll"):
                if name in settings:
                    setattr(self, name, settings[name])
            for name in ("folders", "datasets", "bearer_tokens", "strict_integrations"):
                if name in settings:
                    setattr(self, name, set(settings[name]))
            if "integrations" in settings:
                self.integrations = dict(settings["integrations"])
            if "unit_errors" in settings:
                self.unit_errors = dict(settings["unit_errors"])
            if "faults" in settings:
                self.faults = list(settings["faults"])
            if "job_scripts" in settings:
                self.job_scripts = deque(settings["job_scripts"])

    def reset(self) -> None:
        with self.lock:
            self.registered.clear()
            self.held_kinds.clear()
            self.items.clear()
            self.uploads.clear()
            self.strict_integrations.clear()
            self.jobs.clear()
            self.requests.clear()
            self.faults.clear()
            self.job_scripts.clear()
            self.unit_errors.clear()
            self.job_seconds = 0.5
            self.max_entries = MAX_ENTRIES

    def take_fault(self, route: str) -> dict[str, Any]:
        with self.lock:
            for position, fault in enumerate(self.faults):
                if fault.get("route", "any") in (route, "any"):
                    return self.faults.pop(position)
        return {}

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "registered": {dest: dict(urls) for dest, urls in self.registered.items()},
                "uploads": list(self.uploads),
                "jobs": [
                    {
                        "id": j.id,
                        "destination": j.destination,
                        "status": j.status,
                        "units": len(j.units),
                        "counts": j.counts(),
                        "added": len(j.added),
                        "titles": [a["name"] for a in j.added],
                        "unit_errors": len(j.unit_errors),
                    }
                    for j in self.jobs.values()
                ],
                "requests": list(self.requests),
                "faults_left": len(self.faults),
            }

    # --- processing -------------------------------------------------------------------------------

    def tick(self) -> None:
        """Advance every destination's head job by the units now due (called by the worker thread)."""
        now = time.monotonic()
        with self.lock:
            heads: dict[str, Job] = {}
            for job in self.jobs.values():  # dicts keep start order
                if job.status == "PENDING" and job.destination not in heads:
                    heads[job.destination] = job
            for job in heads.values():
                if job.started is None:
                    job.started = now
                per_unit = self.job_seconds / max(1, len(job.units))
                due = min(len(job.units), int((now - job.started) / per_unit) + 1 if per_unit else len(job.units))
                while job.status == "PENDING" and job.processed < due:
                    self._process(job)

    def _process(self, job: Job) -> None:
        script = job.script
        if "cancel_after" in script and job.processed >= int(script["cancel_after"]):
            job.status = "CANCELLED"
        elif "error_after" in script and job.processed >= int(script["error_after"]):
            job.status = "ERROR"
            job.errors.append(str(script.get("message", "injected job failure")))
        if job.status != "PENDING":
            for unit in job.units[job.processed :]:
                unit.state = "CANCELLED"
            return
        unit = job.units[job.processed]
        job.processed += 1
        failure = next(
            (text for pattern, text in self.unit_errors.items() for url in unit.urls if re.search(pattern, url)), None
        )
        held = self.registered.setdefault(job.destination, {})
        if failure is not None:
            unit.state = "ERROR"
            job.unit_errors.append(
                {
                    "object_urls": unit.urls,
                    "error": failure,
                    "subtask_uuid": str(uuid.uuid4()),
                    "action_description": f"Registering {unit.title}",
                }
            )
            if not job.ignore_errors:
                job.status = "ERROR"
                job.errors.append(f"{unit.title}: {failure}")
                for rest in job.units[job.processed :]:
                    rest.state = "CANCELLED"
                return
        elif unit.skip_duplicates and all(
            (unit.kind, url) in self.held_kinds.get(job.destination, ()) for url in unit.urls
        ):
            unit.state = "DONE"
        else:
            unit.state = "DONE"
            for url in unit.urls:
                held[url] = held.get(url, 0) + 1
                self.held_kinds.setdefault(job.destination, set()).add((unit.kind, url))
            item = str(uuid.uuid4())
            job.added.append({"uuid": item, "name": unit.title})
            self.items[item] = (job.destination, list(unit.urls))
        if job.processed == len(job.units):
            job.status = "ERROR" if job.unit_errors and not job.ignore_errors else "DONE"


# --- auth -----------------------------------------------------------------------------------------------


def _public_key(hex_key: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(hex_key))


def v2_authorized(state: FakeEncordState, request: Request, body: bytes) -> str | None:
    """None when the request carries a valid bearer token or RFC 9421 signature by the configured key."""
    header = request.headers.get("authorization", "")
    if header.startswith("Bearer "):
        return None if header[7:] in state.bearer_tokens else "unknown bearer token"
    digest = request.headers.get("content-digest", "")
    sig_input = request.headers.get("signature-input", "")
    signature = request.headers.get("signature", "")
    if not (digest and sig_input and signature):
        return "unsigned request"
    if digest != "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":":
        return "Content-Digest does not match the body"
    if not sig_input.startswith("encord-sig=") or not signature.startswith("encord-sig=:"):
        return "unknown signature label"
    params = sig_input[len("encord-sig=") :]
    keyid = re.search(r';keyid="([0-9a-f]+)"', params)
    created = re.search(r";created=(\d+)", params)
    if not keyid or keyid.group(1) != state.public_key or not created:
        return "unknown key id"
    if abs(time.time() - int(created.group(1))) > 300:
        return "signature too old"
    target = request.scope["raw_path"].decode()
    if request.scope.get("query_string"):
        target += "?" + request.scope["query_string"].decode()
    base = "\n".join(
        [
            f'"@method": {request.method.upper()}',
            f'"@request-target": {target}',
            f'"content-digest": {digest}',
            f'"@signature-params": {params}',
        ]
    )
    try:
        _public_key(state.public_key).verify(base64.b64decode(signature[len("encord-sig=:") : -1]), base.encode())
    except (InvalidSignature, ValueError):
        return "bad signature"
    return None


def v1_authorized(state: FakeEncordState, request: Request, body: bytes) -> str | None:
    header = request.headers.get("authorization", "")
    if header.startswith("Bearer "):
        return None if header[7:] in state.bearer_tokens else "unknown bearer token"
    key, _, signature = header.partition(":")
    if not signature or key != state.public_key:
        return "unknown key"
    try:
        _public_key(state.public_key).verify(bytes.fromhex(signature), hashlib.sha256(body).digest())
    except (InvalidSignature, ValueError):
        return "bad signature"
    return None


# --- the app --------------------------------------------------------------------------------------------


def _v2_error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status, headers=headers)


_V1_CODES = {
    400: "INVALID_ARGUMENTS_ERROR",
    401: "AUTHENTICATION_ERROR",
    403: "AUTHORISATION_ERROR",
    404: "RESOURCE_NOT_FOUND_ERROR",
}


def _v1_error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    code = _V1_CODES.get(status, "UNKNOWN_ERROR")
    return JSONResponse({"status": status, "response": [code], "payload": message}, status_code=status, headers=headers)


Handler = Callable[[], Awaitable[Response]]


def create_app(state: FakeEncordState) -> FastAPI:
    app = FastAPI(title="fake Encord")

    async def served(route: str, request: Request, v1: bool, handle: Callable[[bytes], Awaitable[Response]]) -> Any:
        """Auth, then a scripted fault, then the handler; every request is logged with its final status."""
        log: dict[str, Any] = {"at": time.time(), "route": route, "status": 200}
        state.requests.append(log)
        body = await request.body()
        denied = (v1_authorized if v1 else v2_authorized)(state, request, body)
        error = _v1_error if v1 else _v2_error
        if denied:
            log["status"] = 401
            return error(401, f"You are not authenticated to access the Encord platform: {denied}")
        fault = state.take_fault(route)
        status = fault.get("status")
        if status and not fault.get("after_commit"):
            log["status"] = int(status)
            headers = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else None
            return error(int(status), "injected fault", headers)
        if fault.get("delay") and route != "start":
            await asyncio.sleep(float(fault["delay"]))
        response = await handle(body)
        if fault.get("delay") and route == "start":
            await asyncio.sleep(float(fault["delay"]))  # committed, then slow: the answer is lost to a timeout
        if status:
            log["status"] = int(status)
            return error(int(status), "injected fault after commit")
        if fault.get("malformed"):
            log["status"] = "malformed"
            return Response(b'{"status": 200, "resp', media_type="application/json")
        if fault.get("reset"):
            log["status"] = "reset"
            return BrokenAnswer()
        log["status"] = response.status_code
        return response

    # --- v2 -------------------------------------------------------------------------------------------

    @app.get("/v2/public/cloud-integrations")
    async def integrations(request: Request) -> Any:
        async def handle(_: bytes) -> Response:
            result = [{"integrationUuid": k, "title": v} for k, v in state.integrations.items()]
            return JSONResponse({"result": result})

        return await served("open", request, False, handle)

    @app.get("/v2/public/storage/folders/{folder}")
    async def get_folder(folder: str, request: Request) -> Any:
        async def handle(_: bytes) -> Response:
            if folder not in state.folders:
                return _v2_error(404, "The requested resource was not found.")
            now = "2025-01-01T00:00:00+00:00"
            return JSONResponse(
                {
                    "uuid": folder,
                    "parent": None,
                    "name": "fake folder",
                    "description": "",
                    "clientMetadata": None,
                    "owner": "fake@example.com",
                    "createdAt": now,
                    "lastEditedAt": now,
                    "userRole": "admin",
                    "syncedDatasetHash": None,
                    "pathToRoot": [],
                }
            )

        return await served("open", request, False, handle)

    @app.post("/v2/public/storage/folders/{folder}/data-upload-jobs")
    async def start_folder_job(folder: str, request: Request) -> Any:
        async def handle(raw: bytes) -> Response:
            try:
                body = json.loads(raw)
            except ValueError:
                return _v2_error(400, "the body is not JSON")
            unknown = sorted(set(body) - {"dataItems", "externalFiles", "integrationHash", "ignoreErrors", "fileName"})
            if unknown:
                return _v2_error(400, f"unknown fields {unknown}")
            if folder not in state.folders:
                return _v2_error(404, "The requested resource was not found.")
            answer = _start(state, f"folder:{folder}", body, "externalFiles", "integrationHash")
            if isinstance(answer, str):
                return _v2_error(400, answer)
            return JSONResponse(answer.id)

        return await served("start", request, False, handle)

    @app.get("/v2/public/storage/folders/{folder}/data-upload-jobs/{job_id}")
    async def poll_folder_job(folder: str, job_id: str, request: Request) -> Any:
        async def handle(_: bytes) -> Response:
            unknown = sorted(set(request.query_params) - {"timeoutSeconds"})
            if unknown:
                return _v2_error(400, f"unknown parameters {unknown}")
            job = state.jobs.get(job_id)
            if job is None or job.destination != f"folder:{folder}":
                return _v2_error(404, "The requested resource was not found.")
            await _long_poll(state, job, float(request.query_params.get("timeoutSeconds", 60)))
            with state.lock:
                counts = job.counts()
                return JSONResponse(
                    {
                        "status": job.status,
                        "itemsWithNames": [{"itemUuid": a["uuid"], "name": a["name"]} for a in job.added],
                        "errors": list(job.errors),
                        "unitsPendingCount": counts["PENDING"],
                        "unitsDoneCount": counts["DONE"],
                        "unitsErrorCount": counts["ERROR"],
                        "unitsCancelledCount": counts["CANCELLED"],
                        "unitErrors": [
                            {
                                "objectUrls": e["object_urls"],
                                "error": e["error"],
                                "subtaskUuid": e["subtask_uuid"],
                                "actionDescription": e["action_description"],
                            }
                            for e in job.unit_errors
                        ],
                    }
                )

        return await served("poll", request, False, handle)

    @app.post("/v2/public/storage/folders/{folder}/data-upload-jobs/{job_id}/cancel")
    async def cancel_folder_job(folder: str, job_id: str, request: Request) -> Any:
        """``StorageFolder.add_data_to_folder_job_cancel``: the units still pending end CANCELLED, and so does
        the job; answers ``AddDataToFolderJobCancelResponse`` (0 for a job that had already finished)."""

        async def handle(_: bytes) -> Response:
            job = state.jobs.get(job_id)
            if job is None or job.destination != f"folder:{folder}":
                return _v2_error(404, "The requested resource was not found.")
            with state.lock:
                pending = [unit for unit in job.units if unit.state == "PENDING"]
                for unit in pending:
                    unit.state = "CANCELLED"
                if job.status == "PENDING":
                    job.status = "CANCELLED"
            return JSONResponse({"unitsCancelledCount": len(pending)})

        return await served("cancel", request, False, handle)

    # --- v1 querier -----------------------------------------------------------------------------------

    @app.post("/public")
    async def querier(request: Request) -> Any:
        try:
            query = json.loads(await request.body())
            route = {"datasetdatalongpolling": "start" if query["query_method"] == "POST" else "poll"}.get(
                query["query_type"], "open"
            )
        except (ValueError, KeyError, TypeError):
            route = "open"
        return await served(route, request, True, lambda raw: _v1(state, request, raw))

    # --- control --------------------------------------------------------------------------------------

    add_control_routes(app, state)

    return app


def _start(
    state: FakeEncordState, destination: str, body: dict[str, Any], spec_field: str, integration_field: str
) -> Job | str:
    """Validate a start and queue the job, or say why not (a 400: no job is created).

    The content is a JSON spec (``spec_field``: ``externalFiles`` for folders, ``files`` for datasets) or, for
    folders, the SDK's structured ``dataItems``: exactly one of them (rule S4). An integration is needed to
    read private cloud files; the structured items may go without one only when they name no cloud URL, which
    this fake does not serve, so it is required here too.
    """
    spec, items = body.get(spec_field), body.get("dataItems")
    if (spec is None) == (items is None):
        return f"S4: give exactly one of {spec_field} and dataItems"
    integration = body.get(integration_field)
    if str(integration) not in state.integrations:
        return f"integration {integration!r} not found or not accessible"
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except ValueError:
            return "J1: the spec is not JSON"

    def known(item: str) -> list[str] | None:
        held = state.items.get(item)
        return held[1] if held is not None and held[0] == destination else None

    try:
        if items is not None:
            units = items_units(items, state.max_entries, known)
        else:
            strict = str(integration) in state.strict_integrations
            units = spec_units(spec, state.max_entries, strict_client_only=strict)
    except Refused as error:
        return str(error)
    with state.lock:
        script = state.job_scripts.popleft() if state.job_scripts else {}
        job = Job(
            id=str(uuid.uuid4()),
            destination=destination,
            units=units,
            ignore_errors=bool(body.get("ignoreErrors", False)),
            script=script,
            created=time.monotonic(),
        )
        if not units:
            job.status = "DONE"
        state.jobs[job.id] = job
        kind = "dataItems" if items is not None else spec_field
        state.uploads.append({"destination": destination, "job": job.id, "kind": kind, "content": items or spec})
    return job


async def _long_poll(state: FakeEncordState, job: Job, timeout: float) -> None:
    deadline = time.monotonic() + min(max(timeout, 0.0), state.max_long_poll)
    while job.status == "PENDING" and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def _v1(state: FakeEncordState, request: Request, raw: bytes) -> Response:
    try:
        query = json.loads(raw)
        unknown = sorted(set(query) - {"query_type", "query_method", "values"})
        if unknown:
            return _v1_error(400, f"unknown fields {unknown}")
        kind, method, values = query["query_type"], query["query_method"], query["values"]
        payload = values.get("payload") or {}
    except (ValueError, KeyError, TypeError, AttributeError):
        return _v1_error(400, "malformed query")
    if request.headers.get("resourcetype") != "dataset":
        return _v1_error(403, "this fake serves dataset resources only")
    dataset = request.headers.get("resourceid", "")
    if dataset not in state.datasets:
        return _v1_error(404, f"dataset {dataset!r} not found")

    def ok(response: Any) -> JSONResponse:
        return JSONResponse({"status": 200, "response": response})

    if kind == "dataset" and method == "GET":
        return ok(
            {
                "dataset_hash": dataset,
                "title": "fake dataset",
                "description": "",
                "dataset_type": "AWS_S3",
                "data_rows": [],
            }
        )
    if kind == "datasetdatalongpolling" and method == "POST":
        allowed = {"dataItems", "files", "integrationId", "ignoreErrors", "folderUuid", "fileName"}
        unknown = sorted(set(payload) - allowed)
        if unknown:
            return _v1_error(400, f"unknown fields {unknown}")
        if payload.get("dataItems") is not None:
            return _v1_error(400, "S4: datasets take a JSON spec in files; structured dataItems go to folders")
        answer = _start(state, f"dataset:{dataset}", payload, "files", "integrationId")
        if isinstance(answer, str):
            return _v1_error(400, answer)
        return ok({"process_hash": answer.id})
    if kind == "datasetdatalongpolling" and method == "GET":
        unknown = sorted(set(payload) - {"process_hash", "timeout_seconds"})
        job = state.jobs.get(str(payload.get("process_hash")))
        if unknown or job is None or job.destination != f"dataset:{dataset}":
            return _v1_error(404, "upload job not found")
        await _long_poll(state, job, float(payload.get("timeout_seconds", 60)))
        with state.lock:
            counts = job.counts()
            return ok(
                {
                    "status": job.status,
                    "data_hashes_with_titles": [
                        {"data_hash": a["uuid"], "title": a["name"], "backing_item_uuid": a["uuid"]} for a in job.added
                    ],
                    "errors": list(job.errors),
                    "data_unit_errors": list(job.unit_errors),
                    "units_pending_count": counts["PENDING"],
                    "units_done_count": counts["DONE"],
                    "units_error_count": counts["ERROR"],
                    "units_cancelled_count": counts["CANCELLED"],
                }
            )
    return _v1_error(400, f"unsupported query {kind} {method}")


def _worker(state: FakeEncordState) -> None:
    while True:
        state.tick()
        time.sleep(0.02)


# --- running it -----------------------------------------------------------------------------------------


def new_key() -> tuple[str, str]:
    """A fresh Ed25519 key: (OpenSSH private key text, raw public key in hex)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()).decode()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    return private, public


class FakeEncord(FakeService):
    """The fake Encord in its own process, with a freshly generated key pair; driven through its control API."""

    BEARER = "fake-encord-bearer-token-0123456789"

    def __init__(self, log_dir: Path):
        self.private_key, self.public_key = new_key()
        port = free_port()
        argv = [
            sys.executable,
            "-m",
            "tests.fakes.encord",
            "--port",
            str(port),
            "--public-key",
            self.public_key,
            "--bearer-token",
            self.BEARER,
        ]
        super().__init__("fake-encord", argv, port, log_dir)

    def conn(self, *, private_key: str | None = None, bearer_token: str | None = None, **extra: Any) -> str:
        """The Airflow connection (JSON form): the key in the password, or a bearer token in the extra."""
        settings: dict[str, Any] = {
            "timeout": 20,
            "max_retries": 3,
            "backoff_factor": 0.1,
            "wait_initial": 0.1,
            "wait_max": 3,
            "long_poll_seconds": 5,
            **extra,
        }
        conn: dict[str, Any] = {"conn_type": "encord", "host": self.url, "extra": settings}
        if bearer_token:
            settings["bearer_token"] = bearer_token
        else:
            conn["password"] = private_key or self.private_key
        return json.dumps(conn)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--public-key", required=True, help="raw Ed25519 public key, hex")
    parser.add_argument("--bearer-token", action="append", default=[])
    args = parser.parse_args()
    state = FakeEncordState(public_key=args.public_key, bearer_tokens=set(args.bearer_token))
    threading.Thread(target=_worker, args=(state,), daemon=True).start()
    uvicorn.run(create_app(state), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
