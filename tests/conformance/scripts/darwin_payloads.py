"""darwin-py's own ``register_existing`` payloads for given storage keys, built offline in its venv.

darwin-py builds the payload inside ``RemoteDatasetV2.register_single_slotted`` / ``register_multi_slotted``
(darwin/dataset/remote_dataset_v2.py) and hands it to ``client.api_v2.register_items``. This script runs those
methods unchanged with a client whose ``register_items`` keeps the payload instead of sending it, so the
payloads are exactly darwin-py's, with no server. argv[1]: ``{"dataset", "storage", "runs": [{register's
arguments}]}``. Last line: per run, the list of payloads (one per request), or the error darwin-py raised.
"""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace
from typing import Any

from darwin.dataset.remote_dataset_v2 import RemoteDatasetV2
from darwin.datatypes import ObjectStore
from darwin_runs import register  # beside this script


class Capture:
    """Stands in for ``client.api_v2``: keeps each payload and answers as V7 does when nothing is blocked."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []

    def register_items(self, payload: dict[str, Any], team_slug: str) -> Any:
        self.payloads.append(json.loads(json.dumps(payload)))
        return SimpleNamespace(text=json.dumps({"items": [], "blocked_items": []}))


def main() -> None:
    spec = json.loads(sys.argv[1])
    store = ObjectStore(
        name=spec["storage"], prefix="darwin", readonly=False, provider="aws", default=True, bucket="bucket"
    )
    out: list[dict[str, Any]] = []
    for run in spec["runs"]:
        capture = Capture()
        client = SimpleNamespace(api_v2=capture)
        dataset = RemoteDatasetV2(client=client, team="team", name=spec["dataset"], slug=spec["dataset"], dataset_id=1)  # type: ignore[arg-type]
        try:
            register(dataset, store, run)
        except (TypeError, ValueError) as error:
            out.append({"error": f"{type(error).__name__}: {str(error).splitlines()[0]}"})
            continue
        out.append({"payloads": capture.payloads})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
