"""The control API every fake platform serves (no auth, for tests and the demo), in one place.

``POST /_fake/configure`` takes settings (faults, rules, rate limits), ``POST /_fake/reset`` empties the fake,
``GET /_fake/state`` shows what it holds and the requests it saw.
"""

from __future__ import annotations

from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import Response


class Controllable(Protocol):
    def configure(self, settings: dict[str, Any]) -> None: ...

    def reset(self) -> None: ...

    def snapshot(self) -> dict[str, Any]: ...


def add_control_routes(app: FastAPI, state: Controllable) -> None:
    @app.post("/_fake/configure")
    async def configure(request: Request) -> Any:
        state.configure(await request.json())
        return {"ok": True}

    @app.post("/_fake/reset")
    def reset() -> Any:
        state.reset()
        return {"ok": True}

    @app.get("/_fake/state")
    def snapshot() -> Any:
        return state.snapshot()


class BrokenAnswer(Response):
    """An answer that breaks off mid-body: the connection is cut as a reset would cut it."""

    def __init__(self) -> None:
        super().__init__()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"status": "PEN', "more_body": True})
        raise ConnectionResetError("injected reset")
