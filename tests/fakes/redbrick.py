"""A fake RedBrick AI GraphQL API as strict as the SDK's contract, served over HTTP, with fault injection.

What it enforces (from redbrick-sdk 2.28.7's and 2.35.4's client and queries, and RedBrick's items-list guide
in ``shared/seeds``):
- ``POST /graphql/`` only; the body is base64(gzip(json)) when ``Content-Encoding-RB: gzip`` is sent (the
  SDK always sends it), plain JSON otherwise; a body holding anything but ``query``/``variables``
  (/``operationName``) is a 400.
- ``ApiKey`` must be the configured 43-character key (else 401) and ``RB-SDK-Version`` must be present.
- Exactly the operations the SDK releases send for ``get_project()`` and ``create_datapoints()`` (verbatim,
  whitespace aside; see ``redbrick_queries``): ``getOrgSDK``, ``sdkGetProjectNameSDK``/``getProjectSDK``,
  ``sdkGetStagesSDK``/``getStagesSDK``, ``getTaxonomySDK``, ``getLabelStorageSDK``,
  ``validateAndConvertToImportFormatSDK``, ``createDatapointSDK``; answers hold exactly the selected fields.
  Any other query is a GraphQL error, as is an undeclared, missing or mistyped variable (UUIDs are checked).
- Items lists: the rules of ``redbrick_rules`` (the seeds' rules, one function each), all or nothing per
  validation call (``isValid: false`` with the reasons). Items matching a configured "bad item" pattern are
  invalid with the configured reason.
- Unknown storage id: GraphQL error. Unknown project: ``project: null`` for the lookup, a GraphQL error for
  ``createDatapoint``. Another org id: a "not authorized" GraphQL error.
- Task names are unique per project: a repeat ``createDatapoint`` is a GraphQL error saying it already exists.
- More requests than ``rpm`` in a sliding minute: 429 with ``Retry-After``; more tasks in one validation
  than ``max_tasks`` (when configured): 413, as RedBrick answers requests that are too large.

Control (no auth): ``POST /_fake/configure``, ``POST /_fake/reset``, ``GET /_fake/state``. Faults are
scripted per request, in order, optionally for one operation only (``"op": "createDatapointSDK"``):
``{"status": 500}``, ``{"status": 413}``, ``{"status": 429, "retry_after": 1}``, ``{"delay": 3}`` (take effect
late), ``{"drop": true}`` (cut the connection mid-answer), ``{"malformed": true}`` (200 with a body that is
not JSON), ``{"null_answer": true}`` (``createDatapoint: null``, nothing created), and ``"after_commit": true``
with any of delay/status/drop/malformed (the request takes effect, then its answer is late or lost).

Run on its own: ``python -m tests.fakes.redbrick --port 8766``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import gzip
import itertools
import json
import math
import re
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from tests.fakes.control import add_control_routes
from tests.fakes.redbrick_queries import BY_TEXT, Operation, select
from tests.fakes.redbrick_rules import PUBLIC_STORAGE, SERIES_INFO_FIELDS, check_task, convert, path_problem
from tests.harness import FakeService, free_port

REDBRICK_STORAGE = "22222222-2222-2222-2222-222222222222"
_STAGES = [
    {"stageName": "Input", "brickName": "labelset-input", "stageConfig": "{}", "routing": {"nextStageName": "Label"}},
    {"stageName": "Label", "brickName": "manual-labeling", "stageConfig": "{}", "routing": {"nextStageName": "Output"}},
    {"stageName": "Output", "brickName": "labelset-output", "stageConfig": "{}", "routing": {"nextStageName": "END"}},
]
_TAXONOMY = {
    "orgId": None, "name": "demo", "taxId": "3c3c3c3c-4d4d-4e5e-8f6f-7a7a7a7a7a7a", "version": 1,
    "createdAt": "2025-01-01T00:00:00+00:00", "categories": None, "attributes": None, "taskCategories": None,
    "taskAttributes": None, "colorMap": None, "archived": False, "isNew": True, "studyClassify": [],
    "seriesClassify": [], "instanceClassify": [], "objectTypes": [],
}  # fmt: skip
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class GraphQLError(Exception):
    """Answered as ``{"errors": [{"message": ...}], "data": null}`` with HTTP 200, as GraphQL servers do."""


@dataclass
class FakeRedBrickState:
    api_key: str
    org_id: str
    org_name: str = "Demo Org"
    projects: dict[str, str] = field(default_factory=dict)
    storages: set[str] = field(default_factory=set)
    rpm: int | None = None
    max_tasks: int | None = None
    bad_items: dict[str, str] = field(default_factory=dict)
    faults: deque[dict[str, Any]] = field(default_factory=deque)
    tasks: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    window: deque[float] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    baseline: dict[str, Any] = field(default_factory=dict)

    def remember(self) -> None:
        """What ``reset`` goes back to: the key, org, projects and storages the server started with."""
        self.baseline = {
            "api_key": self.api_key, "org_id": self.org_id, "org_name": self.org_name,
            "projects": dict(self.projects), "storages": set(self.storages),
        }  # fmt: skip

    def configure(self, settings: dict[str, Any]) -> None:
        with self.lock:
            for name in ("api_key", "org_id", "org_name", "rpm", "max_tasks"):
                if name in settings:
                    setattr(self, name, settings[name])
            if "projects" in settings:
                self.projects = dict(settings["projects"])
            if "storages" in settings:
                self.storages = set(settings["storages"])
            if "bad_items" in settings:
                self.bad_items = dict(settings["bad_items"])
            if "faults" in settings:
                self.faults = deque(settings["faults"])

    def reset(self) -> None:
        with self.lock:
            self.tasks.clear()
            self.requests.clear()
            self.window.clear()
            self.faults.clear()
            self.bad_items.clear()
            self.rpm = None
            self.max_tasks = None
            for name, value in self.baseline.items():
                setattr(self, name, value.copy() if isinstance(value, (dict, set)) else value)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "projects": {p: list(tasks.values()) for p, tasks in self.tasks.items()},
                "requests": list(self.requests),
                "faults_left": len(self.faults),
            }

    def take_fault(self, operation: str) -> dict[str, Any]:
        for position, fault in enumerate(self.faults):
            if fault.get("op") in (None, operation):
                del self.faults[position]
                return fault
        return {}


def decode_body(raw: bytes, encoding: str | None) -> dict[str, Any]:
    """The SDK's body: base64(gzip(json)) with ``Content-Encoding-RB: gzip``."""
    if encoding is not None and encoding.lower() != "gzip":
        raise ValueError(f"unsupported Content-Encoding-RB {encoding!r}")
    try:
        text = gzip.decompress(base64.b64decode(raw, validate=True)) if encoding else raw
        body = json.loads(text)
    except (binascii.Error, OSError, EOFError, ValueError) as error:
        raise ValueError(f"the body could not be decoded: {type(error).__name__}") from None
    if not isinstance(body, dict) or "query" not in body or not set(body) <= {"query", "variables", "operationName"}:
        raise ValueError("the body must be a JSON object with query and variables only")
    return body


def check_variables(operation: Operation, variables: Any) -> dict[str, Any]:
    declared = operation.variables
    if not isinstance(variables, dict):
        raise GraphQLError("variables must be an object")
    for name in variables:
        if name not in declared:
            raise GraphQLError(f"Variable '${name}' is not defined by operation '{operation.name}'.")
    for name, kind in declared.items():
        value = variables.get(name)
        if value is None:
            if kind.endswith("!"):
                raise GraphQLError(f"Variable '${name}' of required type '{kind}' was not provided.")
            continue
        base = kind.rstrip("!")
        if base == "UUID" and not (isinstance(value, str) and UUID_RE.match(value)):
            raise GraphQLError(f"Variable '${name}' got invalid value {value!r}; Expected type 'UUID'.")
        if base in ("String", "JSONString") and not isinstance(value, str):
            raise GraphQLError(f"Variable '${name}' got invalid value; Expected type '{base}'.")
        if base == "Boolean" and not isinstance(value, bool):
            raise GraphQLError(f"Variable '${name}' got invalid value {value!r}; Expected type 'Boolean'.")
        if base == "Float" and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise GraphQLError(f"Variable '${name}' got invalid value {value!r}; Expected type 'Float'.")
        if base.startswith("[") and not isinstance(value, list):
            raise GraphQLError(f"Variable '${name}' got invalid value; Expected type '{kind}'.")
    return variables


def create_app(state: FakeRedBrickState) -> FastAPI:
    app = FastAPI(title="fake RedBrick AI")

    @app.post("/graphql/")
    async def graphql(request: Request) -> Response:
        raw = await request.body()
        log: dict[str, Any] = {"at": time.time(), "op": None, "status": 200}
        with state.lock:
            state.requests.append(log)

        def answer(response: Response) -> Response:
            log["status"] = response.status_code
            return response

        key = request.headers.get("apikey")
        if key is None or len(key) != 43 or key != state.api_key:
            return answer(JSONResponse({"message": "Invalid or missing ApiKey"}, status_code=401))
        if not request.headers.get("rb-sdk-version"):
            return answer(JSONResponse({"message": "RB-SDK-Version header required"}, status_code=400))
        try:
            body = decode_body(raw, request.headers.get("content-encoding-rb"))
        except ValueError as error:
            return answer(JSONResponse({"message": str(error)}, status_code=400))
        operation = BY_TEXT.get(" ".join(str(body["query"]).split()))
        log["op"] = operation.name if operation else None

        with state.lock:
            now = time.monotonic()
            while state.window and now - state.window[0] >= 60:
                state.window.popleft()
            if state.rpm is not None and len(state.window) >= state.rpm:
                wait = math.ceil(60 - (now - state.window[0]))
                response = JSONResponse({"message": "rate limited"}, 429, {"Retry-After": str(max(wait, 1))})
                return answer(response)
            state.window.append(now)
            fault = state.take_fault(log["op"] or "")
        if fault:
            log["fault"] = fault
        if fault.get("delay") and not fault.get("after_commit"):
            await asyncio.sleep(float(fault["delay"]))
        lost = bool(fault.get("status") or fault.get("drop") or fault.get("malformed"))
        if lost and not fault.get("after_commit"):
            return answer(_faulty(fault))

        if log["op"] == "validateAndConvertToImportFormatSDK" and state.max_tasks is not None:
            sent = _task_count((body.get("variables") or {}).get("original"))
            if sent > state.max_tasks:
                return answer(JSONResponse({"message": f"{sent} tasks: request too large"}, status_code=413))
        try:
            if operation is None:
                raise GraphQLError("Unknown operation: this server answers only the RedBrick SDK's operations")
            variables = check_variables(operation, body.get("variables") or {})
            if fault.get("null_answer"):
                data: dict[str, Any] = {operation.field: None}
            else:
                data = {operation.field: select(_HANDLERS[operation.field](state, variables, log), operation.selection)}
        except GraphQLError as error:
            return answer(JSONResponse({"errors": [{"message": str(error)}], "data": None}))
        if fault.get("delay") and fault.get("after_commit"):
            await asyncio.sleep(float(fault["delay"]))
        if lost:
            return answer(_faulty(fault))
        return answer(JSONResponse({"data": data}))

    add_control_routes(app, state)

    return app


def _task_count(original: object) -> int:
    try:
        tasks = json.loads(original) if isinstance(original, str) else []
    except ValueError:
        return 0
    return len(tasks) if isinstance(tasks, list) else 0


def _faulty(fault: dict[str, Any]) -> Response:
    if fault.get("drop"):

        async def cut() -> AsyncIterator[bytes]:
            yield b'{"data": {'
            raise ConnectionResetError("injected: connection dropped mid-answer")

        return StreamingResponse(cut(), media_type="application/json")
    if fault.get("malformed"):
        return PlainTextResponse("<html>502 Bad Gateway</html>", status_code=200, media_type="application/json")
    status = int(fault["status"])
    headers = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else None
    return JSONResponse({"message": "injected fault"}, status_code=status, headers=headers)


def _check_org(state: FakeRedBrickState, org_id: str) -> None:
    if org_id != state.org_id:
        raise GraphQLError(f"Not authorized to access organization {org_id}")


def _check_storage(state: FakeRedBrickState, storage_id: str) -> None:
    if storage_id != PUBLIC_STORAGE and storage_id not in state.storages:
        raise GraphQLError(f"Storage method {storage_id} not found in this organization")


def _organization(state: FakeRedBrickState, variables: dict[str, Any], log: dict[str, Any]) -> Any:
    _check_org(state, variables["orgId"])
    return {"name": state.org_name, "orgId": state.org_id}


def _known_project(state: FakeRedBrickState, variables: dict[str, Any]) -> str | None:
    _check_org(state, variables["orgId"])
    project_id = str(variables["projectId"])
    return project_id if project_id in state.projects else None


def _project(state: FakeRedBrickState, variables: dict[str, Any], log: dict[str, Any]) -> Any:
    """The project record: all the fields either SDK release selects (the answer keeps only those asked for)."""
    project_id = _known_project(state, variables)
    if project_id is None:
        return None
    return {
        "orgId": state.org_id, "projectId": project_id, "name": state.projects[project_id], "desc": "",
        "status": "CREATION_SUCCESS", "tdType": "DICOM_SEGMENTATION", "taxonomy": _TAXONOMY,
        "projectUrl": f"https://app.redbrickai.com/{state.org_id}/projects/{project_id}",
        "createdAt": "2025-01-01T00:00:00+00:00", "updatedAt": "2025-01-02T00:00:00+00:00",
        "consensusSettings": {"enabled": False}, "workspace": None, "stages": _STAGES,
    }  # fmt: skip


def _stages(state: FakeRedBrickState, variables: dict[str, Any], log: dict[str, Any]) -> Any:
    if _known_project(state, variables) is None:
        raise GraphQLError(f"Project {variables['projectId']} not found")
    return _STAGES


def _taxonomy(state: FakeRedBrickState, variables: dict[str, Any], log: dict[str, Any]) -> Any:
    _check_org(state, variables["orgId"])
    if variables.get("name") not in (None, _TAXONOMY["name"]) or variables.get("taxId") not in (
        None,
        _TAXONOMY["taxId"],
    ):
        return None
    return _TAXONOMY


def _label_storage(state: FakeRedBrickState, variables: dict[str, Any], log: dict[str, Any]) -> Any:
    if _known_project(state, variables) is None:
        raise GraphQLError(f"Project {variables['projectId']} not found")
    return {"storageId": REDBRICK_STORAGE, "path": ""}  # a new project keeps its labels in RedBrick's storage


def _validate(state: FakeRedBrickState, variables: dict[str, Any], log: dict[str, Any]) -> Any:
    storage_id = variables.get("storageId") or PUBLIC_STORAGE
    _check_storage(state, storage_id)
    try:
        tasks = json.loads(variables["original"])
    except ValueError:
        raise GraphQLError("original is not valid JSON") from None
    if not isinstance(tasks, list) or not tasks:
        return {"isValid": False, "error": "Expected a non-empty list", "converted": None}
    log["names"] = [t.get("name") if isinstance(t, dict) else None for t in tasks]
    problems = [p for i, t in enumerate(tasks) if (p := check_task(i, t, storage_id, state.bad_items))]
    if problems:
        error = "Invalid items list:\n" + "\n".join(problems)
        return {"isValid": False, "error": error, "converted": None}
    converted = json.dumps([convert(t) for t in tasks], separators=(",", ":"))
    converted_out = converted if variables.get("convert") else None
    return {"isValid": True, "error": None, "converted": converted_out}


def _create(state: FakeRedBrickState, variables: dict[str, Any], log: dict[str, Any]) -> Any:
    _check_org(state, variables["orgId"])
    project_id = variables.get("projectId")
    if project_id not in state.projects:
        raise GraphQLError(f"Project {project_id} not found")
    storage_id = variables["storageId"]
    _check_storage(state, storage_id)
    name, items = variables["name"], variables["items"]
    log["names"] = [name]
    if not name:
        raise GraphQLError("name must not be empty")
    if not items:
        raise GraphQLError("items must not be empty")
    for path in items:
        problem = path_problem(path, storage_id, {})
        if problem:
            raise GraphQLError(f"Invalid item: {problem}")
    series = variables.get("seriesInfo")
    for info in series or []:
        if not isinstance(info, dict) or set(info) - SERIES_INFO_FIELDS:
            raise GraphQLError(f"seriesInfo entries take only {', '.join(sorted(SERIES_INFO_FIELDS))}")
        indices = info.get("itemsIndices") or []
        if any(not isinstance(i, int) or not 0 <= i < len(items) for i in indices):
            raise GraphQLError("seriesInfo.itemsIndices out of range")
    for name_of, value in (("preAssign", variables.get("preAssign")), ("metaData", variables.get("metaData"))):
        if value is not None:
            try:
                json.loads(value)
            except ValueError:
                raise GraphQLError(f"{name_of} is not a JSON string") from None
    with state.lock:
        tasks = state.tasks.setdefault(project_id, {})
        if name in tasks:
            raise GraphQLError(f"Task with name '{name}' already exists in this project")
        dp_id, task_id = str(uuid.uuid4()), str(uuid.uuid4())
        tasks[name] = {
            "name": name, "items": list(items), "seriesInfo": series, "storageId": storage_id,
            "dpId": dp_id, "taskId": task_id, "n": next(state.ids), "variables": dict(variables),
        }  # fmt: skip
    return {"dpId": dp_id, "taskId": task_id, "taskIds": [task_id]}


_HANDLERS: dict[str, Callable[[FakeRedBrickState, dict[str, Any], dict[str, Any]], Any]] = {
    "organization": _organization,
    "project": _project,
    "stages": _stages,
    "taxonomy": _taxonomy,
    "getLabelStorage": _label_storage,
    "validateAndConvertToImportFormat": _validate,
    "createDatapoint": _create,
}
"""Each root field the SDK's operations select -> the value the fake answers (cut to the selection)."""


class FakeRedBrick(FakeService):
    """The fake RedBrick AI in its own process, driven through its control API."""

    API_KEY = "rbfake-0123456789abcdefghijklmnopqrstuvwxyz"  # 43 characters, like RedBrick's keys
    ORG_ID = "0a0a0a0a-1b1b-4c2c-8d3d-4e4e4e4e4e4e"
    PROJECT_ID = "5f5f5f5f-6a6a-4b7b-8c8c-9d9d9d9d9d9d"
    STORAGE_ID = "7e7e7e7e-8f8f-4a9a-9b0b-0c1c1c1c1c1c"

    def __init__(self, log_dir: Path):
        port = free_port()
        argv = [sys.executable, "-m", "tests.fakes.redbrick", "--port", str(port), "--api-key", self.API_KEY]
        argv += ["--org-id", self.ORG_ID, "--project", self.PROJECT_ID, "--storage", self.STORAGE_ID]
        super().__init__("fake-redbrick", argv, port, log_dir)

    def conn(
        self, api_key: str | None = None, org_id: str | None = None, project_id: str | None = None, **extra: Any
    ) -> str:
        extras = {"org_id": org_id or self.ORG_ID, "project_id": project_id or self.PROJECT_ID, **extra}
        return json.dumps(
            {"conn_type": "redbrick", "host": self.url, "password": api_key or self.API_KEY, "extra": extras}
        )

    def tasks(self, project_id: str | None = None) -> list[dict[str, Any]]:
        return list(self.state()["projects"].get(project_id or self.PROJECT_ID, []))


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--api-key", default=FakeRedBrick.API_KEY)
    parser.add_argument("--org-id", default=FakeRedBrick.ORG_ID)
    parser.add_argument("--project", action="append", default=None, help="a project id (repeatable)")
    parser.add_argument("--storage", action="append", default=None, help="an external storage id (repeatable)")
    args = parser.parse_args()
    state = FakeRedBrickState(api_key=args.api_key, org_id=args.org_id)
    state.projects = {p: f"project {n}" for n, p in enumerate(args.project or [FakeRedBrick.PROJECT_ID], start=1)}
    state.storages = set(args.storage or [FakeRedBrick.STORAGE_ID])
    state.remember()
    uvicorn.run(create_app(state), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
