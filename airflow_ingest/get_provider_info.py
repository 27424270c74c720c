"""Provider metadata: Airflow discovers this package, its hooks and its connection form through it."""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-ingest",
        "name": "airflow-ingest",
        "description": "Register data already in S3, GCS or Azure Blob into V7 Darwin, Encord and RedBrick AI.",
        "integrations": [
            {"integration-name": "V7 Darwin", "external-doc-url": "https://docs.v7labs.com/", "tags": ["software"]},
        ],
        "hooks": [
            {"integration-name": "V7 Darwin", "python-modules": ["airflow_ingest.hooks.darwin"]},
        ],
        "operators": [
            {
                "integration-name": "V7 Darwin",
                "python-modules": [
                    "airflow_ingest.operators.darwin",
                    "airflow_ingest.operators.listing",
                    "airflow_ingest.operators.planning",
                    "airflow_ingest.operators.reporting",
                ],
            },
        ],
        "config": {
            "airflow_ingest": {
                "description": "Settings of the airflow-ingest provider.",
                "options": {
                    "workspace": {
                        "description": (
                            "Where runs keep their artifacts (listings, manifests, outcomes, reports): any "
                            "ObjectStoragePath URI. With several workers it must be shared object storage. "
                            "Empty means a local folder under $AIRFLOW_HOME."
                        ),
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "s3://aws_default@my-bucket/airflow-ingest",
                        "default": "",
                    },
                },
            },
        },
        "connection-types": [
            {
                "connection-type": "darwin",
                "hook-class-name": "airflow_ingest.hooks.darwin.DarwinHook",
                "hook-name": "V7 Darwin",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "login"],
                    "relabeling": {"host": "API base URL", "password": "API key"},
                    "placeholders": {"host": "https://darwin.v7labs.com", "password": "your V7 API key"},
                },
                "conn-fields": {
                    "team_slug": {
                        "label": "Team slug",
                        "description": "The team the API key belongs to, as in your V7 URLs.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "requests_per_minute": {
                        "label": "Requests per minute",
                        "description": "Client-side pace per worker (V7 documents 100); 0 turns it off.",
                        "schema": {"type": ["number", "null"], "minimum": 0, "default": 100},
                    },
                    "timeout": {
                        "label": "Timeout (seconds)",
                        "description": "Seconds to wait for each API answer before retrying.",
                        "schema": {"type": ["integer", "null"], "minimum": 1, "default": 60},
                    },
                },
            },
        ],
    }
