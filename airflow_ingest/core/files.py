"""Small run files (outcomes, job records) written whole, so a process killed while writing leaves no half file.

A register task can be SIGKILLed at any instant, including while it writes the outcome file that tells its
retry which batches are done. A half-written file there would stop the retry with a JSON error and the run
could not resume. On a local disk the text goes to a sibling temporary file that is renamed over the target
(``os.replace`` is atomic on POSIX). On an object store a PUT is already all or nothing, and a rename there is
a copy plus a delete, so the object is written directly.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

LOCAL_PROTOCOLS = frozenset({"file", "local", ""})
_UNSAFE = re.compile(r"[^A-Za-z0-9._+:=-]")


def safe_segment(value: str) -> str:
    """A dag, run or ledger name as one path segment: no separators, no leading dots, nothing to climb out with."""
    cleaned = _UNSAFE.sub("_", value).lstrip(".")
    return cleaned or "_"


def local_path(path: Any) -> Path | None:
    """The file-system path behind ``path`` (a ``pathlib.Path`` or a ``file://`` ObjectStoragePath), else None."""
    if isinstance(path, Path):
        return path
    return Path(path.path) if getattr(path, "protocol", None) in LOCAL_PROTOCOLS else None


def write_text_whole(path: Any, text: str) -> None:
    """Write ``text`` to ``path`` (any pathlib-like path) so a reader sees the old content or all the new."""
    local = local_path(path)
    if local is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            out.write(text)
        return
    local.parent.mkdir(parents=True, exist_ok=True)
    partial = local.with_name(f".{local.name}.{os.getpid()}.partial")
    try:
        with partial.open("w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, local)
    finally:
        partial.unlink(missing_ok=True)
