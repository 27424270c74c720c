"""The probe cache: nothing is probed twice.

Results are kept by url and etag in a JSON-lines file in a local folder; a changed object has a new etag and
is probed again. Local on purpose: the cache is appended to as probes finish, which object storage cannot do.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.media_info import MediaInfo
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.urls import Source
from airflow_ingest.media.results import Probed


class ProbeCache:
    """Probe results by (url, etag) in ``{folder}/probe-cache.jsonl``, appended as results arrive.

    A changed object has a new etag, so a stale entry is never used; retryable failures are not kept, so
    they are tried again next run. Safe to share between threads of one process.
    """

    NAME = "probe-cache.jsonl"

    def __init__(self, folder: Path | str) -> None:
        self.path = Path(folder) / self.NAME
        self._entries: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        if self.path.exists():
            with self.path.open(encoding="utf-8") as lines:
                for line in lines:
                    if not line.strip():
                        continue
                    try:
                        entry = json.loads(line)
                        self._entries[(entry["url"], entry["etag"])] = line
                    except (ValueError, KeyError, TypeError):
                        continue  # a line cut short by a killed run: the object is probed again

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, obj: StoredObject) -> Probed | None:
        line = self._entries.get((obj.url, obj.etag))
        if line is None:
            return None
        entry = json.loads(line)
        info = MediaInfo.from_json(entry["info"]) if "info" in entry else None
        return Probed(obj, info, failure=entry.get("failure"), cached=True)

    def put(self, probed: Probed) -> None:
        if probed.cached or probed.retryable:
            return
        entry: dict[str, object] = {"url": probed.obj.url, "etag": probed.obj.etag}
        if probed.info is not None:
            entry["info"] = probed.info.to_json()
        else:
            entry["failure"] = probed.failure
        line = json.dumps(entry, separators=(",", ":"), ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line)
            self._entries[(probed.obj.url, probed.obj.etag)] = line


def probe_cache_folder(value: str | Path) -> Path:
    """The probe cache's local folder; an object-storage URI is refused rather than read as a relative path.

    The cache is appended to line by line as probes finish, which object storage cannot do; a URI used to end
    as a folder named ``s3:`` in the worker's working directory, a cache no other worker saw.
    """
    text = str(value)
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", text)
    if scheme is None:
        return Path(text)
    if scheme.group(1).lower() == "file":
        return Path(text[len("file://") :])
    raise ConfigError(
        "probe_cache",
        text,
        "the probe cache is a folder on the worker's disk (appended as probes finish), not object storage: give a "
        "local path, e.g. a volume shared by the workers, or leave it unset for $AIRFLOW_HOME/airflow-ingest",
    )


def default_cache_folder(source: Source) -> Path:
    """Where a source's probe cache lives: ``$AIRFLOW_HOME/airflow-ingest/probe-cache/{scheme}/{container}``.

    Local on purpose: the cache is read once per run and appended to as objects are probed, which object
    storage does badly (no append); keyed by url and etag, it is correct on any worker, and a worker without
    it only probes again. One folder per container keeps each run's load to its own bucket's entries.
    """
    home = Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow")
    container = source.container.replace("/", "_") or "_"
    return home / "airflow-ingest" / "probe-cache" / source.scheme.value / container
