"""darwin-py's own registration flow, run in its venv against the fake V7 (tests/conformance/test_darwin_sdk.py).

argv[1] is a JSON document: ``{"dataset", "storage", "runs": [{"storage_keys", "multi_slotted"?, "fps"?,
"multi_planar_view"?, "preserve_folders"?, "compression_level"?}]}``; a run with ``local_files`` (and ``path``)
calls ``register_locally_processed`` instead (read-only videos; boto3 takes ``AWS_ENDPOINT_URL`` and keys from
the environment). The base URL comes from
``DARWIN_BASE_URL`` (read by darwin-py itself) and the key from ``DARWIN_API_KEY``. Prints, as its last line,
what darwin-py saw: the dataset and storage connection it resolved and each run's result or HTTP refusal.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import requests
from darwin.client import Client
from darwin_runs import register  # beside this script


def main() -> None:
    spec = json.loads(sys.argv[1])
    client = Client.from_api_key(os.environ["DARWIN_API_KEY"], datasets_dir=Path(tempfile.mkdtemp()))
    dataset = client.get_remote_dataset(spec["dataset"])
    store = client.get_external_storage(name=spec["storage"])
    runs: list[dict[str, Any]] = []
    for run in spec["runs"]:
        # darwin-py's own switch for zlib bodies (X-Darwin-Payload-Compression-Version), 0 = plain JSON
        client.config.put("global/payload_compression_level", str(run.get("compression_level", 0)), save=False)
        try:
            result = register(dataset, store, run)
        except requests.HTTPError as error:
            runs.append({"refused": error.response.status_code, "detail": error.response.text})
            continue
        runs.append({"registered": result["registered"], "blocked": result["blocked"]})
    seen = {
        "team": client.default_team,
        "dataset": {"slug": dataset.slug, "id": dataset.dataset_id, "items": dataset.item_count},
        "storage": {"name": store.name, "provider": store.provider, "readonly": store.readonly},
        "runs": runs,
    }
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
