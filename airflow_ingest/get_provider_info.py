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
            {"integration-name": "Encord", "external-doc-url": "https://docs.encord.com/", "tags": ["software"]},
            {
                "integration-name": "RedBrick AI",
                "external-doc-url": "https://docs.redbrickai.com/",
                "tags": ["software"],
            },
        ],
        "hooks": [
            {"integration-name": "V7 Darwin", "python-modules": ["airflow_ingest.platforms.darwin.hook"]},
            {"integration-name": "Encord", "python-modules": ["airflow_ingest.platforms.encord.hook"]},
            {"integration-name": "RedBrick AI", "python-modules": ["airflow_ingest.platforms.redbrick.hook"]},
        ],
        "operators": [
            {
                "integration-name": "V7 Darwin",
                "python-modules": [
                    "airflow_ingest.platforms.darwin.operator",
                    "airflow_ingest.operators.listing",
                    "airflow_ingest.operators.planning",
                    "airflow_ingest.operators.reporting",
                    "airflow_ingest.operators.ledger",
                ],
            },
            {"integration-name": "Encord", "python-modules": ["airflow_ingest.platforms.encord.operator"]},
            {"integration-name": "RedBrick AI", "python-modules": ["airflow_ingest.platforms.redbrick.operator"]},
        ],
        "triggers": [
            {"integration-name": "Encord", "python-modules": ["airflow_ingest.platforms.encord.trigger"]},
        ],
        "extra-links": [
            "airflow_ingest.platforms.darwin.operator.DarwinDatasetLink",
            "airflow_ingest.platforms.encord.operator.EncordDestinationLink",
            "airflow_ingest.platforms.redbrick.operator.RedBrickProjectLink",
            "airflow_ingest.operators.links.IngestViewLink",
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
                "hook-class-name": "airflow_ingest.platforms.darwin.hook.DarwinHook",
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
            {
                "connection-type": "encord",
                "hook-class-name": "airflow_ingest.platforms.encord.hook.EncordHook",
                "hook-name": "Encord",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "login"],
                    "relabeling": {"host": "API domain", "password": "Ed25519 private key (OpenSSH)"},
                    "placeholders": {
                        "host": "https://api.encord.com (US: https://api.us.encord.com)",
                        "password": "-----BEGIN OPENSSH PRIVATE KEY----- ...",
                    },
                },
                "conn-fields": {
                    "bearer_token": {
                        "label": "Bearer token",
                        "description": "Instead of a private key: an Encord bearer token.",
                        "schema": {"type": ["string", "null"], "format": "password"},
                    },
                    "timeout": {
                        "label": "Timeout (seconds)",
                        "description": "Read timeout of each API request (the SDK's default is 180).",
                        "schema": {"type": ["integer", "null"], "minimum": 10, "default": 180},
                    },
                    "long_poll_seconds": {
                        "label": "Long poll (seconds)",
                        "description": "How long one job-status request may wait on Encord's side.",
                        "schema": {"type": ["integer", "null"], "minimum": 0, "maximum": 60, "default": 30},
                    },
                },
            },
            {
                "connection-type": "redbrick",
                "hook-class-name": "airflow_ingest.platforms.redbrick.hook.RedBrickHook",
                "hook-name": "RedBrick AI",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "login"],
                    "relabeling": {"host": "API host", "password": "API key"},
                    "placeholders": {"host": "https://api.redbrickai.com", "password": "your 43-character API key"},
                },
                "conn-fields": {
                    "org_id": {
                        "label": "Organization id",
                        "description": "The UUID in your RedBrick URL: app.redbrickai.com/<org_id>.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "project_id": {
                        "label": "Default project id",
                        "description": "Used when an operator names none: app.redbrickai.com/<org_id>/projects/<id>.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "timeout": {
                        "label": "Timeout (seconds)",
                        "description": "Seconds to wait for each API answer before retrying (the SDK uses 30).",
                        "schema": {"type": ["integer", "null"], "minimum": 1, "default": 30},
                    },
                    "concurrency": {
                        "label": "Parallel task creations",
                        "description": "createDatapoint calls in flight per worker (the SDK uses up to 10).",
                        "schema": {"type": ["integer", "null"], "minimum": 1, "maximum": 10, "default": 4},
                    },
                    "requests_per_minute": {
                        "label": "Requests per minute",
                        "description": "Client-side pace per worker; 0 turns it off (RedBrick documents no limit).",
                        "schema": {"type": ["number", "null"], "minimum": 0, "default": 0},
                    },
                },
            },
        ],
    }
