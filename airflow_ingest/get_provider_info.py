"""Provider metadata: Airflow discovers this package, its hooks and its connection form through it.

Each platform's share (integration, hook, operator, trigger, links, connection form) comes from its declaration
in the registry (:meth:`~airflow_ingest.platforms.base.Platform.provider_info`), which imports no hook or SDK.
"""

from __future__ import annotations

from typing import Any

PIPELINE_OPERATORS = [
    "airflow_ingest.operators.listing",
    "airflow_ingest.operators.planning",
    "airflow_ingest.operators.reporting",
    "airflow_ingest.operators.ledger",
]
"""The platform-free operators, listed under the first platform (provider info groups operators by integration)."""


def get_provider_info() -> dict[str, Any]:
    from airflow_ingest.platforms import platforms

    declared = platforms()
    shares = [p.provider_info() for p in declared]
    operators = [share["operator"] for share in shares]
    operators[0] = {**operators[0], "python-modules": [*operators[0]["python-modules"], *PIPELINE_OPERATORS]}
    return {
        "package-name": "airflow-ingest",
        "name": "airflow-ingest",
        "description": (
            "Register data already in S3, GCS or Azure Blob into "
            f"{', '.join(p.label for p in declared[:-1])} and {declared[-1].label}."
        ),
        "integrations": [share["integration"] for share in shares],
        "hooks": [share["hook"] for share in shares],
        "operators": operators,
        "triggers": [share["trigger"] for share in shares if share["trigger"]["python-modules"]],
        "extra-links": [*(link for p in declared for link in p.links), "airflow_ingest.operators.links.IngestViewLink"],
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
        "connection-types": [share["connection-type"] for share in shares],
    }
