"""How far a reader walks to follow ``airflow-ingest sync``: files, stops, trips up the layers, returns.

Runs one small ``sync`` in this process (a ``file://`` folder of 12 images, batches of 5, into the fake V7
Darwin from ``tests/fakes`` in a process of its own) under ``sys.setprofile`` and records, in order, the first
call of every ``airflow_ingest`` function (a reader reads a function once; generators resuming and loops are
not new stops; module bodies run by imports and the methods ``dataclasses`` generates are left out). From that
sequence:

- ``files``: distinct modules entered;
- ``stops``: changes of module from one function to the next;
- ``upward``: stops whose caller (the nearest ``airflow_ingest`` frame below) is in a lower layer than the
  callee, per the layer order in ``tests/layers.py`` (COMMON.md, the README's development map); a generator
  first pulled by a lower layer is not one (a stream handed down is consumed there, not called up to);
- ``returns``: stops into a module already visited.

The same four figures are also counted a layer at a time (``layers``: ``cli``, ``pipeline``, ``core``...,
a stop being a change of layer), which a split of one module into several does not change.

``python -m bench.trace_sync`` prints the figures and the path; ``--json`` prints the figures only. Also the
``trace`` section of ``make bench`` (``python -m bench --only trace``). Figures are in the README.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import io
import json
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from tests.harness import FakeDarwin
from tests.layers import layer_of, rank

PACKAGE = "airflow_ingest"


class Tracer:
    """First calls of ``airflow_ingest`` functions, with the module of their nearest ``airflow_ingest`` caller."""

    def __init__(self) -> None:
        self.seen: set[Any] = set()
        self.path: list[tuple[str, str, str | None]] = []  # (module, function, caller module)

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        code = frame.f_code
        if code in self.seen or code.co_name == "<module>" or "__create_fn__" in code.co_qualname:
            return  # module bodies run by imports, and dataclasses' generated methods: nothing a reader opens
        module = frame.f_globals.get("__name__", "")
        if not (module == PACKAGE or module.startswith(PACKAGE + ".")):
            return
        self.seen.add(code)
        if code.co_flags & inspect.CO_GENERATOR:  # pulled by its consumer: the stream's maker is the caller
            self.path.append((module, code.co_qualname, None))
            return
        caller = None
        back = frame.f_back
        while back is not None:
            if back.f_code.co_name == "<module>":  # run by an import (a class body, a decorator): not a call path
                return
            name = back.f_globals.get("__name__", "")
            if name == PACKAGE or name.startswith(PACKAGE + "."):
                caller = name
                break
            back = back.f_back
        self.path.append((module, code.co_qualname, caller))

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        threading.setprofile(self)
        sys.setprofile(self)
        try:
            yield
        finally:
            sys.setprofile(None)
            threading.setprofile(None)  # type: ignore[arg-type]

    def figures(self) -> dict[str, int]:
        """Files, stops, upward and returns by module, and the same by layer (``layer_`` keys)."""
        by_module = self._count(lambda module: module)
        by_layer = self._count(layer_of)
        return {
            "files": by_module["places"],
            **{key: by_module[key] for key in ("stops", "upward", "returns")},
            "layers": by_layer["places"],
            **{f"layer_{key}": by_layer[key] for key in ("stops", "upward", "returns")},
        }

    def _count(self, place: Callable[[str], str]) -> dict[str, int]:
        visited: set[str] = set()
        stops = upward = returns = 0
        last: str | None = None
        for name, _, caller in self.path:
            module = place(name)
            if module != last:
                if last is not None:
                    stops += 1
                    if module in visited:
                        returns += 1
                    if caller is not None and rank(caller) < rank(name):
                        upward += 1
                visited.add(module)
                last = module
        return {"places": len(visited), "stops": stops, "upward": upward, "returns": returns}

    def walk(self) -> list[str]:
        """The path as a reader walks it: one line per stop, ``^`` marking a call up the layers."""
        lines: list[str] = []
        last: str | None = None
        for module, function, caller in self.path:
            if module != last:
                up = "^" if caller is not None and rank(caller) < rank(module) else " "
                lines.append(f"{up} {module}.{function}")
                last = module
        return lines


def seed(folder: Path, count: int = 12) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / f"{n:03d}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(16))


def trace(work: Path) -> Tracer:
    """Run the sync under the tracer (the CLI in this process, the fake Darwin beside it); return the tracer."""
    os.environ.setdefault("AIRFLOW_HOME", str(work / "airflow-home"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    darwin = FakeDarwin(work / "logs")
    try:
        os.environ["AIRFLOW_CONN_DARWIN_TRACE"] = darwin.conn()
        data = work / "data"
        seed(data)
        from airflow_ingest.cli import main  # imported before tracing: imports are not the walk

        argv = ["sync", f"file://{data}", "--platform", "darwin", "--platform-conn-id", "darwin_trace",
                "--dataset", "demo-dataset", "--storage", "demo-storage", "--max-entries", "5",
                "--state", str(work / "state"), "--runs", str(work / "runs")]  # fmt: skip
        warm = work / "warm"  # one run first, so lazily imported modules are loaded before the traced one
        seed(warm)
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            main([*argv[:1], f"file://{warm}", *argv[2:-4], "--state", str(work / "s0"), "--runs", str(work / "r0")])
        tracer = Tracer()
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()), tracer.active():
            code = main(argv)
        if code != 0:
            raise RuntimeError(f"the traced sync exited {code}: {err.getvalue()}")
        return tracer
    finally:
        darwin.stop()


def run(quick: bool = False) -> dict[str, Any]:
    """The ``trace`` section of ``make bench``: the figures (the same at any size; no target, so no verdict)."""
    with tempfile.TemporaryDirectory(prefix="trace-sync-") as tmp:
        return {"sync_trace": {**trace(Path(tmp)).figures(), "met": None}}


def row(result: dict[str, Any]) -> tuple[str, str, str]:
    """The ``make bench`` table's row: stops as the figure, the rest as details."""
    details = (
        f"{result['files']} files, {result['upward']} calls up the layers, {result['returns']} returns; by layer: "
        f"{result['layers']} layers, {result['layer_stops']} stops, {result['layer_returns']} returns"
    )
    return f"{result['stops']} stops", "fewer, none upward", details


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print the figures only, as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="trace-sync-") as tmp:
        tracer = trace(Path(tmp))
    if not args.json:
        print("\n".join(tracer.walk()))
    print(json.dumps(tracer.figures()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
