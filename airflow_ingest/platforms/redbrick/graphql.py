"""RedBrick's GraphQL wire format, as redbrick-sdk sends it: the query strings, the endpoint, the gzip+base64
body, the ``createDatapoint`` variables, and reading GraphQL errors."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from airflow_ingest.core.errors import ConfigError, PlatformError
from airflow_ingest.core.outcomes import cut_short, raw_text
from airflow_ingest.platforms.redbrick.answers import (
    one_line,
)
from airflow_ingest.platforms.redbrick.target import UUID_PATTERN

# The SDK's query strings, verbatim (redbrick/repo/project.py and redbrick/repo/upload.py @ ea6c01c9).
ORG_QUERY = """
            query getOrgSDK($orgId: UUID!) {
                organization(orgId: $orgId){
                    name
                    orgId
                }
            }
        """


PROJECT_SHARD = """
orgId
projectId
name
desc
status
tdType
taxonomy {
    name
}
projectUrl
createdAt
consensusSettings {
    enabled
}
workspace {
    workspaceId
}
"""


PROJECT_QUERY = f"""
            query sdkGetProjectNameSDK($orgId: UUID!, $projectId: UUID!) {{
                project(orgId: $orgId, projectId: $projectId) {{
                    {PROJECT_SHARD}
                }}
            }}
        """


VALIDATE_QUERY = """
        query validateAndConvertToImportFormatSDK(
            $original: String!
            $convert: Boolean
            $storageId: UUID
        ) {
            validateAndConvertToImportFormat(
                original: $original
                convert: $convert
                storageId: $storageId
            ) {
                isValid
                error
                converted
            }
        }
        """


CREATE_QUERY = """
            mutation createDatapointSDK(
                $orgId: UUID!
                $workspaceId: UUID
                $projectId: UUID
                $items: [String!]!
                $heatMaps: [HeatMapInput!]
                $transforms: [TransformInput!]
                $centerline: [CenterlineInput!]
                $name: String!
                $storageId: UUID!
                $labelsData: String
                $labelsDataPath: String
                $labelsMap: [LabelMapInput]
                $seriesInfo: [SeriesInfoInput!]
                $metaData: String
                $isGroundTruth: Boolean!
                $preAssign: String
                $priority: Float
                $attributes: JSONString
            ) {
                createDatapoint(
                    orgId: $orgId
                    workspaceId: $workspaceId
                    projectId: $projectId
                    items: $items
                    heatMaps: $heatMaps
                    transforms: $transforms
                    centerline: $centerline
                    name: $name
                    storageId: $storageId
                    labelsData: $labelsData
                    labelsDataPath: $labelsDataPath
                    labelsMap: $labelsMap
                    seriesInfo: $seriesInfo
                    metaData: $metaData
                    isGroundTruth: $isGroundTruth
                    preAssign: $preAssign
                    priority: $priority
                    attributes: $attributes
                ) {
                    dpId
                    taskId
                    taskIds
                }
            }
        """


compact_json = json.JSONEncoder(separators=(",", ":")).encode
"""``json.dumps(..., separators=(",", ":"))`` as the SDK writes every JSON it sends."""


class RedBrickRefusal(PlatformError):
    """RedBrick answered with GraphQL ``errors``: it understood the request and refused it (not retried)."""

    def __init__(self, message: str, *, status: int | None = 200) -> None:
        super().__init__(message, status=status, retryable=False)


def graphql_endpoint(host: str | None) -> str:
    """The GraphQL URL for a host, as the SDK's ``RBClientImpl`` builds it.

    ``api.redbrickai.com`` is used as is; a self-hosted or custom domain becomes ``https://{domain}/api``;
    AWS and local hosts keep their form. The SDK recognises ``localhost``; ``127.0.0.1`` and ``[::1]`` are
    the same thing and are kept as well, scheme included (tests and tunnels use plain http there).
    """
    url = (host or DEFAULT_HOST).strip().lower().rstrip("/")
    if "://" not in url:
        url = f"https://{url}"
    local = urlsplit(url).hostname in ("localhost", "127.0.0.1", "::1")
    if "api.redbrickai.com" in url:
        url = DEFAULT_HOST
    elif "amazonaws.com" not in url and not local:
        url = "https://" + urlsplit(url).netloc + "/api"
    return url + "/graphql/"


def encode_body(query: str, variables: Mapping[str, Any]) -> bytes:
    """base64(gzip(json)) of the query and its variables: the SDK's ``prepare_query``."""
    return base64.b64encode(gzip.compress(compact_json({"query": query, "variables": variables}).encode("utf-8")))


def datapoint_variables(org_id: str, project_id: str, storage_id: str, point: Mapping[str, Any]) -> dict[str, Any]:
    """``createDatapoint``'s variables for one converted task, as ``create_task`` / ``create_datapoint_async``
    build them for a point without labels or segmentations (what an items list registration sends)."""
    series = point.get("seriesInfo")
    return {
        "orgId": org_id,
        "workspaceId": None,
        "projectId": project_id,
        "items": list(point["items"]),
        "heatMaps": point.get("heatMaps"),
        "transforms": point.get("transforms"),
        "centerline": (
            [{**c, "centerline": json.dumps(c["centerline"])} for c in point["centerline"]]
            if point.get("centerline")
            else None
        ),
        "name": point["name"],
        "storageId": storage_id,
        "labelsData": compact_json(point.get("labels") or []) if "labels" in point else None,
        "labelsDataPath": None,
        "labelsMap": [],  # what the SDK's segmentation step answers for a task without segmentations
        "seriesInfo": (
            [
                {
                    **{k: v for k, v in info.items() if k not in ("binaryMask", "semanticMask", "pngMask", "masks")},
                    "metaData": compact_json(info["metaData"]) if info.get("metaData") else None,
                    "imageHeaders": compact_json(info["imageHeaders"]) if info.get("imageHeaders") else None,
                }
                for info in series
            ]
            if series
            else None
        ),
        "metaData": compact_json(point["metaData"]) if point.get("metaData") else None,
        "isGroundTruth": False,
        "preAssign": compact_json(point.get("preAssign")),
        "priority": point.get("priority"),
        "attributes": compact_json(point["attributes"]) if point.get("attributes") else None,
    }


def check_uuid(parameter: str, value: str | None, where: str) -> str:
    """A RedBrick id, or a one-line error naming the parameter and where to find the right value."""
    if not value or not UUID_PATTERN.match(str(value)):
        raise ConfigError(parameter, value, f"use the UUID from {where}")
    return str(value)


def graphql_messages(errors: Any) -> str:
    """GraphQL ``errors`` as one line: each entry's ``message``, or the raw text of whatever else came."""
    entries = errors if isinstance(errors, list) else [errors]
    messages = []
    for entry in entries:
        message = entry.get("message") if isinstance(entry, dict) else None
        messages.append(one_line(message) if isinstance(message, str) and message.strip() else raw_text(entry))
    return cut_short("; ".join(messages), 1000) or "GraphQL errors without a message"


DEFAULT_HOST = "https://api.redbrickai.com"
