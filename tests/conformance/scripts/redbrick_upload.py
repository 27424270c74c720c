"""Run redbrick-sdk's own registration flow: ``redbrick.get_project()`` then ``project.upload.create_datapoints()``.

Usage: ``redbrick_upload.py URL ORG_ID PROJECT_ID STORAGE_ID POINTS_JSON_FILE`` with the API key in
``REDBRICK_API_KEY``. Prints one JSON line: the SDK version, the project's name and stages as the SDK read them,
and ``create_datapoints``' return value (each point with its ``response`` or ``error``). Runs inside the SDK's
own venv (``make sdks``), so it imports nothing from this project.
"""

from __future__ import annotations

import json
import os
import sys

import redbrick


def main() -> None:
    url, org_id, project_id, storage_id, points_file = sys.argv[1:6]
    with open(points_file, encoding="utf-8") as handle:
        points = json.load(handle)
    api_key = os.environ["REDBRICK_API_KEY"]
    project = redbrick.get_project(org_id=org_id, project_id=project_id, api_key=api_key, url=url)
    results = project.upload.create_datapoints(storage_id, points)
    print(
        json.dumps(
            {
                "version": redbrick.__version__,
                "project": project.name,
                "stages": [stage.stage_name for stage in project.stages],
                "results": results,
            },
            default=str,
        )
    )


if __name__ == "__main__":
    main()
