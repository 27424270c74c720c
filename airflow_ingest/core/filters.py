"""Which listed objects a run wants: key globs, size bounds, a modification window, no folder markers.

Globs match the whole key, as GCS's ``matchGlob`` does: ``*`` and ``?`` stay within one folder, ``**``
crosses folders (``**/*.dcm`` matches ``a.dcm`` and ``x/y/a.dcm``), ``[abc]`` and ``[!abc]`` are classes.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.objects import StoredObject


def glob_regex(pattern: str, parameter: str = "glob") -> re.Pattern[str]:
    """Compile a key glob; a malformed one is a :class:`ConfigError` naming it."""
    if not pattern:
        raise ConfigError(parameter, pattern, "use a non-empty glob such as '**/*.dcm'")
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end < 0:
                raise ConfigError(parameter, pattern, f"the '[' at position {i} is never closed")
            body = pattern[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append(f"[{body.replace(chr(92), chr(92) * 2)}]")
            i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    try:
        return re.compile("".join(out) + r"\Z", re.DOTALL)
    except re.error as error:
        raise ConfigError(parameter, pattern, f"not a valid glob ({error})") from None


def parse_when(value: str | datetime | None, parameter: str) -> datetime | None:
    """An ISO 8601 instant with a timezone (``2026-11-01T06:00:00Z``), or a date meaning its midnight UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        when = value
    else:
        text = str(value).strip()
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(parameter, value, "use ISO 8601 with a timezone, e.g. 2026-11-01T06:00:00Z") from None
        if when.tzinfo is None and len(text) == 10:
            when = when.replace(tzinfo=timezone.utc)
    if when.tzinfo is None:
        raise ConfigError(parameter, str(value), "add a timezone, e.g. 2026-11-01T06:00:00Z or +02:00")
    return when


def is_folder_marker(obj: StoredObject) -> bool:
    """The zero-byte ``folder/`` objects consoles create; they are never data."""
    return obj.size == 0 and obj.key.endswith("/")


@dataclass(frozen=True)
class Filters:
    """Everything but the prefix (which the listing request itself applies)."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    min_size: int | None = None
    max_size: int | None = None
    modified_since: datetime | None = None
    modified_before: datetime | None = None
    _include: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    _exclude: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_include", tuple(glob_regex(p, "glob") for p in self.include))
        object.__setattr__(self, "_exclude", tuple(glob_regex(p, "exclude") for p in self.exclude))
        for name in ("min_size", "max_size"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ConfigError(name, value, "use a whole number of bytes, 0 or more")
        if self.min_size is not None and self.max_size is not None and self.min_size > self.max_size:
            raise ConfigError("min_size", self.min_size, f"it is larger than max_size={self.max_size}")
        for name in ("modified_since", "modified_before"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ConfigError(name, value.isoformat(), "give a timezone, e.g. 2026-11-01T00:00:00Z")
        if self.modified_since and self.modified_before and self.modified_since >= self.modified_before:
            raise ConfigError("modified_since", self.modified_since.isoformat(), "it is not before modified_before")

    @property
    def active(self) -> bool:
        return bool(
            self.include
            or self.exclude
            or self.min_size is not None
            or self.max_size is not None
            or self.modified_since
            or self.modified_before
        )

    def accepts(self, obj: StoredObject) -> bool:
        if is_folder_marker(obj):
            return False
        if self.min_size is not None and obj.size < self.min_size:
            return False
        if self.max_size is not None and obj.size > self.max_size:
            return False
        if self.modified_since is not None and obj.last_modified < self.modified_since:
            return False
        if self.modified_before is not None and obj.last_modified >= self.modified_before:
            return False
        if self._include and not any(p.match(obj.key) for p in self._include):
            return False
        return not (self._exclude and any(p.match(obj.key) for p in self._exclude))  # no generator when empty


def own_folder_prefixes(source_folder: str, folders: dict[str, str]) -> dict[str, str]:
    """Which of the tool's own output folders (option -> absolute path) sit inside a ``file://`` source folder,
    as key prefixes (``out/``): a listing must leave them out, or a run would list its own manifests, ledger
    and reports as new objects. Paths are compared as given (the caller resolves symlinks)."""
    root = posixpath.normpath(source_folder)
    found: dict[str, str] = {}
    for option, folder in folders.items():
        path = posixpath.normpath(folder)
        if path == root:
            found[option] = ""
        elif path.startswith(root.rstrip("/") + "/"):
            found[option] = path[len(root.rstrip("/")) + 1 :] + "/"
    return found
