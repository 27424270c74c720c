"""Faults in front of the real Label Studio server: a :class:`FaultProxy` choosing its imports and task lookups.

The proxy forwards everything to the server; the requests it counts (``POST /api/projects/N/import`` and
``GET /api/tasks/``, numbered together in arrival order) can be failed instead: a 5xx or 429 with Label Studio's
own error body, an answer cut off after the server acted (a lost answer), or a lookup answered with no tasks
(as a lookup that ran before a slow import committed would be). The canned bodies have the shapes the real
server sends (``tests/integration/platforms/labelstudio/test_faults.py`` compares them).
"""

from __future__ import annotations

import json
import re

from tests.fakes.fault_proxy import Fault, FaultProxy

IMPORT = re.compile(r"^/api/projects/\d+/import(?:\?|$)")
LOOKUP = re.compile(r"^/api/tasks/?\?")


def error_body(status: int, detail: str) -> bytes:
    """Label Studio's error document (``core/utils/exceptions.py``'s handler) for ``status``."""
    body = {"id": "00000000-0000-0000-0000-000000000000", "status_code": status, "version": "1.23.2"}
    return json.dumps({**body, "detail": detail, "exc_info": None}).encode()


def failure(status: int) -> Fault:
    """A 5xx or 429 answer as Label Studio (or the proxy in front of it) gives one."""
    detail = "Request was throttled." if status == 429 else "Internal server error (injected)"
    return Fault(status=status, body=error_body(status, detail), content_type="application/json")


LOST = Fault(cut=True)
"""The server acted; its answer is cut off half-way (a reset, a proxy timeout)."""

EMPTY_LOOKUP = Fault(
    status=200,
    body=json.dumps({"total_annotations": 0, "total_predictions": 0, "total": 0, "tasks": []}).encode(),
    content_type="application/json",
)
"""A task lookup that finds nothing, as it would before a slow import committed."""


def labelstudio_proxy(upstream: str) -> FaultProxy:
    return FaultProxy(upstream, patterns=(IMPORT, LOOKUP), methods=("GET", "POST"))
