"""Imports only point down the layers (``tests/layers.py``, the README's development map), read from the source.

Every ``import`` and ``from ... import`` in ``airflow_ingest`` counts, inside functions and ``TYPE_CHECKING``
blocks too: a lazy import up the layers is still a dependency up the layers. Also: ``core`` (and a platform's
pure modules) import no Airflow, no network client and no subprocess; ``hooks/`` holds Airflow hooks only; the
CLI and the operators, side by side, do not import each other. A shim kept at an old public path (imports only)
may re-export its new home, wherever that is.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.layers import PURE_PLATFORM_MODULES, layer_of, rank

PACKAGE = Path(__file__).resolve().parent.parent / "airflow_ingest"

IMPURE = ("airflow", "requests", "boto3", "botocore", "subprocess", "urllib3", "httpx", "socket", "fsspec")
"""What ``core`` may not import: Airflow, network clients, processes."""

HOOK_SUPPORT = {"airflow_ingest.hooks", "airflow_ingest.hooks.base", "airflow_ingest.hooks.retries"}
"""Modules in ``hooks/`` that hold what hooks share rather than a hook."""

KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()
"""(importer, imported) pairs still being moved (issue 19): each pair here is a debt to pay. None left."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield module_name(path), ast.parse(path.read_text(encoding="utf-8"), str(path))


def imports(name: str, tree: ast.Module) -> Iterator[str]:
    """Every module ``tree`` imports, absolute (relative imports resolved against ``name``)."""
    package = name if name.count(".") == 0 else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            yield base


def is_pure(name: str) -> bool:
    parts = name.split(".")
    return layer_of(name) == "core" or (
        len(parts) == 4 and parts[1] == "platforms" and parts[3] in PURE_PLATFORM_MODULES
    )


def is_shim(tree: ast.Module) -> bool:
    """A module kept at an old public path that only re-exports (imports, a docstring, ``__all__``)."""
    allowed = (ast.Import, ast.ImportFrom, ast.Expr, ast.Assign, ast.AnnAssign)
    has_import = any(isinstance(node, (ast.Import, ast.ImportFrom)) for node in tree.body)
    return has_import and all(isinstance(node, allowed) for node in tree.body)


def problems() -> Iterator[tuple[str, str, str]]:
    for name, tree in modules():
        shim = is_shim(tree)
        for imported in imports(name, tree):
            if (name, imported) in KNOWN_EXCEPTIONS:
                continue
            top = imported.split(".")[0]
            if is_pure(name) and top in IMPURE:
                yield name, imported, "core (pure) imports Airflow, a network client or subprocess"
            if top != "airflow_ingest":
                continue
            if is_pure(name) and not is_pure(imported) and imported != "airflow_ingest":
                yield name, imported, "a pure module imports outside core"
            elif layer_of(name) == "core" and layer_of(imported) == "platforms":
                yield name, imported, "core names a platform: it must stay platform-free"
            elif rank(imported) > rank(name) and not shim:  # a shim at an old path re-exports the new home
                yield name, imported, f"{layer_of(name)} imports up into {layer_of(imported)}"
            elif {layer_of(name), layer_of(imported)} == {"cli", "operators"}:
                yield name, imported, "the CLI and the operators are side by side: share through pipeline/"


def test_every_import_points_down_the_layers() -> None:
    found = [f"{name} -> {imported}: {why}" for name, imported, why in problems()]
    assert not found, "\n".join(found)


def test_the_known_exceptions_are_still_needed() -> None:
    """An exception whose import is gone comes off the list, so the list only ever shrinks."""
    present = {(name, imported) for name, tree in modules() for imported in imports(name, tree)}
    assert present >= KNOWN_EXCEPTIONS, sorted(KNOWN_EXCEPTIONS - present)


@pytest.mark.parametrize("name", sorted(n for n, _ in modules() if layer_of(n) == "hooks"))
def test_hooks_holds_airflow_hooks_only(name: str) -> None:
    if name in HOOK_SUPPORT:
        return
    tree = next(tree for module, tree in modules() if module == name)
    if is_shim(tree):  # an old import path re-exporting a hook that moved into its platform's package
        return
    classes = [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
    assert any(c.endswith("Hook") for c in classes), f"{name} defines no hook ({classes}): it belongs elsewhere"
