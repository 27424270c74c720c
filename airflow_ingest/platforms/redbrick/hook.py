"""The RedBrick AI hook: one ``redbrick`` connection to RedBrick's GraphQL API, over plain ``requests``.

Why not ``redbrick-sdk``: registering an items list takes two GraphQL operations, yet the SDK pulls 67
packages into the worker (opencv-python, scipy, SimpleITK, python-gdcm, dicom2nifti among them), retries
neither 429 nor 5xx, and drops a whole input silently when one validation chunk is invalid. This module sends
exactly what redbrick-sdk 2.28.7 (``redbrick-ai/redbrick-sdk`` @ ea6c01c9) sends: ``POST {host}/graphql/``
with the headers ``ApiKey``, ``RB-SDK-Version`` and ``Content-Encoding-RB: gzip`` and a body that is
base64(gzip(json)) of ``{"query", "variables"}``, with the SDK's own query strings
(``redbrick/common/client.py``, ``redbrick/repo/upload.py``, ``redbrick/repo/project.py``).

Connection: ``host`` (default ``https://api.redbrickai.com``), ``password`` the API key (43 characters),
``extra.org_id``, and optionally ``extra.project_id`` (the default project), ``timeout`` (seconds per
request, default 30 like the SDK), ``requests_per_minute`` (client-side pace, default 0 = none: RedBrick
documents no limit), ``concurrency`` (parallel ``createDatapoint`` calls, default 4; the SDK uses up to
10), ``duplicate_pattern`` (regex recognising a name conflict) and the retry policy ``max_attempts``
(default 6), ``wait_initial`` (1 s) and ``wait_max`` (60 s).

Validation goes in chunks of at most 10 tasks (redbrick-sdk 2.35's size; 2.28 sent 50), whatever the batch
size. ``tests/conformance`` runs both releases' own flows against the fake and compares our ``createDatapoint``
variables with theirs.

Retries: 429 (honouring ``Retry-After``), 5xx, timeouts, dropped connections and malformed answers, with
backoff; the SDK retries none of these (2.35 retries ``createDatapoint`` three times). ``createDatapoint`` is
resent too: task names are unique per project, so a resend after a lost answer comes back as a name conflict,
counted as ``duplicate``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import requests

from airflow_ingest.core.errors import ConfigError, ConnectionConfigError, PlatformAuthError, PlatformError
from airflow_ingest.core.outcomes import cut_short, raw_text
from airflow_ingest.hooks.base import (
    GuardedSession,
    PlatformHook,
    checked_base_url,
    raise_if_transient,
    response_detail,
)
from airflow_ingest.hooks.retries import RetryPolicy, Transient
from airflow_ingest.platforms.redbrick.answers import (
    DEFAULT_DUPLICATE_PATTERN,
)
from airflow_ingest.platforms.redbrick.graphql import (
    CREATE_QUERY,
    DEFAULT_HOST,
    ORG_QUERY,
    PROJECT_QUERY,
    VALIDATE_QUERY,
    RedBrickRefusal,
    check_uuid,
    compact_json,
    datapoint_variables,
    encode_body,
    graphql_endpoint,
    graphql_messages,
)

APP_URL = "https://app.redbrickai.com"
SDK_VERSION = "2.28.7"
"""The redbrick-sdk release whose calls this module reproduces; sent as ``RB-SDK-Version`` like the SDK."""
API_KEY_LENGTH = 43
DEFAULT_POLICY = RetryPolicy(max_attempts=6, wait_initial=1.0, wait_max=60.0)
_AUTH_MESSAGE = re.compile(r"(?i)not authori[sz]ed|unauthori[sz]ed|permission|forbidden|access denied|invalid api key")


class RedBrickHook(PlatformHook):
    """Talks to RedBrick AI's GraphQL API on behalf of a ``redbrick`` connection.

    :param redbrick_conn_id: the connection holding the host, API key and organization id.
    :param max_attempts: attempts per request before giving up on 429, 5xx, timeouts and resets.
    :param wait_initial: the first backoff step in seconds; later waits grow exponentially with jitter.
    :param wait_max: the longest backoff between two attempts, and the cap on a server's Retry-After.
    """

    conn_name_attr = "redbrick_conn_id"
    default_conn_name = "redbrick_default"
    conn_type = "redbrick"
    default_policy = DEFAULT_POLICY
    hook_name = "RedBrick AI"

    def __init__(
        self,
        redbrick_conn_id: str = default_conn_name,
        *,
        max_attempts: int | None = None,
        wait_initial: float | None = None,
        wait_max: float | None = None,
    ) -> None:
        super().__init__(redbrick_conn_id, max_attempts=max_attempts, wait_initial=wait_initial, wait_max=wait_max)
        self.redbrick_conn_id = redbrick_conn_id
        self._projects: dict[str, dict[str, Any]] = {}
        self._local = threading.local()

    @cached_property
    def _settings(self) -> dict[str, Any]:
        """The connection, read and checked once: a wrong value fails here, in one line, before any request."""
        conn = self._connection
        extra = self.extra
        api_key = self.api_key()
        if len(api_key) != API_KEY_LENGTH:
            raise ConnectionConfigError(
                self.redbrick_conn_id,
                "password (the API key)",
                f"has {len(api_key)} characters; RedBrick keys have {API_KEY_LENGTH}: copy it again from "
                "RedBrick's Integrations > API keys",
            )
        org_id = check_uuid("extra.org_id", extra.get("org_id"), "your RedBrick URL: app.redbrickai.com/<org_id>")
        project_id = extra.get("project_id") or None
        if project_id is not None:
            check_uuid("extra.project_id", project_id, "the project's URL: app.redbrickai.com/<org_id>/projects/<id>")
        concurrency = self.extra_number("concurrency", 4, positive=True, whole=True)
        pattern = extra.get("duplicate_pattern") or DEFAULT_DUPLICATE_PATTERN
        try:
            re.compile(pattern)
        except (TypeError, re.error) as error:
            raise ConnectionConfigError(
                self.redbrick_conn_id,
                "extra.duplicate_pattern",
                f"={cut_short(repr(pattern), 80)} is not a regular expression ({error}): fix or remove it",
            ) from None
        checked_base_url(self.redbrick_conn_id, conn.host, DEFAULT_HOST)
        return {
            "endpoint": graphql_endpoint(conn.host),
            "api_key": api_key,
            "org_id": org_id,
            "project_id": project_id,
            "timeout": self.extra_number("timeout", 30, positive=True),
            "concurrency": int(concurrency),
            "duplicate_pattern": str(pattern),
        }

    @property
    def endpoint(self) -> str:
        return str(self._settings["endpoint"])

    @property
    def org_id(self) -> str:
        return str(self._settings["org_id"])

    @property
    def default_project_id(self) -> str | None:
        value = self._settings["project_id"]
        return str(value) if value else None

    @property
    def concurrency(self) -> int:
        return int(self._settings["concurrency"])

    @property
    def duplicate_pattern(self) -> str:
        return str(self._settings["duplicate_pattern"])

    def project_url(self, project_id: str) -> str:
        """Where a person sees the project (the SDK documents ``app.redbrickai.com/[org_id]/projects/[id]``)."""
        return f"{APP_URL}/{self.org_id}/projects/{project_id}"

    def read_connection(self) -> None:
        super().read_connection()
        _ = self._settings, self.limiter

    def get_conn(self) -> requests.Session:
        """This thread's session: ``createDatapoint`` calls run in a few threads, each with its own pool."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = GuardedSession(secret_headers=("ApiKey", "Authorization"))
            session.headers.update(
                {
                    "RB-SDK-Version": SDK_VERSION,
                    "ApiKey": self._settings["api_key"],
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                    "Content-Encoding-RB": "gzip",
                    # The SDK (aiohttp) also offers br; requests decodes brotli only if a brotli package is there.
                    "Accept-Encoding": "gzip",
                    "User-Agent": f"airflow-ingest (redbrick-sdk {SDK_VERSION} calls)",
                }
            )
            self._local.session = session
        return session

    # --- operations ---------------------------------------------------------------------------------------

    def organization(self) -> dict[str, Any]:
        """The connection's organization (``name``, ``orgId``); RedBrick refuses it to a key of another org."""
        data = self.execute(ORG_QUERY, {"orgId": self.org_id}, operation="getOrgSDK")
        org = data.get("organization")
        if org and not isinstance(org, dict):
            raise PlatformError(f"getOrgSDK: RedBrick answered an organization of another shape: {raw_text(org)}")
        if not org:
            raise PlatformAuthError(
                f"RedBrick has no organization {self.org_id!r} for this API key: fix extra.org_id "
                f"of connection {self.redbrick_conn_id!r}"
            )
        return dict(org)

    def project(self, project_id: str) -> dict[str, Any]:
        """The project's record, fetched once; an unknown project is an auth error, since every call would fail."""
        project_id = check_uuid(
            "project_id", project_id, "the project's URL: app.redbrickai.com/<org_id>/projects/<id>"
        )
        if project_id not in self._projects:
            variables = {"orgId": self.org_id, "projectId": project_id}
            try:
                data = self.execute(PROJECT_QUERY, variables, operation="sdkGetProjectNameSDK")
            except RedBrickRefusal as error:
                raise PlatformAuthError(f"RedBrick refused project {project_id!r}: {error}; check project_id") from None
            found = data.get("project")
            if found and not isinstance(found, dict):
                raise PlatformError(
                    f"sdkGetProjectNameSDK: RedBrick answered a project of another shape: {raw_text(found)}",
                    retryable=True,
                )
            if not found:
                raise PlatformAuthError(
                    f"RedBrick has no project {project_id!r} in organization {self.org_id!r}: check project_id "
                    f"and extra.org_id of connection {self.redbrick_conn_id!r}"
                )
            self._projects[project_id] = dict(data["project"])
        return self._projects[project_id]

    def validate(self, tasks: Sequence[Mapping[str, Any]], storage_id: str) -> Any:
        """``validateAndConvertToImportFormat`` for an items list: ``{isValid, error, converted}`` as RedBrick
        sent it (any shape: :func:`validation_verdict` judges it)."""
        variables = {"original": compact_json(list(tasks)), "convert": True, "storageId": storage_id}
        data = self.execute(VALIDATE_QUERY, variables, operation="validateAndConvertToImportFormatSDK")
        return data.get("validateAndConvertToImportFormat")

    def create_datapoint(self, project_id: str, storage_id: str, point: Mapping[str, Any]) -> Any:
        """``createDatapoint`` for one converted task: ``{dpId, taskId, taskIds}`` as RedBrick sent it (any
        shape, ``None`` if it sent none: :func:`created` judges it)."""
        variables = datapoint_variables(self.org_id, project_id, storage_id, point)
        data = self.execute(CREATE_QUERY, variables, operation="createDatapointSDK")
        return data.get("createDatapoint")

    def test_connection(self) -> tuple[bool, str]:
        try:
            org = self.organization()
            message = f"Connected to RedBrick AI organization {org.get('name')!r}"
            if self.default_project_id:
                project = self.project(self.default_project_id)
                message += f", project {project.get('name')!r}"
        except (PlatformError, ConfigError) as error:
            return False, str(error)
        return True, message

    # --- transport ----------------------------------------------------------------------------------------

    def execute(self, query: str, variables: Mapping[str, Any], *, operation: str) -> dict[str, Any]:
        """One GraphQL operation with retries on transient trouble; returns its ``data``.

        GraphQL ``errors`` raise :class:`RedBrickRefusal` (or :class:`PlatformAuthError` when they are about
        permissions), as the SDK's ``_process_json_response`` raises ``ValueError``; they are not retried.
        """
        body = encode_body(query, variables)
        return self.retried(operation, lambda: self._attempt(operation, body), log_as=f"RedBrick {operation}")

    def _attempt(self, operation: str, body: bytes) -> dict[str, Any]:
        timeout = float(self._settings["timeout"])
        response = self.send(self.get_conn(), "POST", self.endpoint, timeout=timeout, what=operation, data=body)
        status = response.status_code
        if status in (401, 403):
            raise PlatformAuthError(
                f"RedBrick refused the API key of connection {self.redbrick_conn_id!r} (HTTP {status}: "
                f"{_detail(response)}); check the key in the connection's password and extra.org_id",
                status=status,
            )
        raise_if_transient(response, _detail(response))
        if status == 413:
            raise PlatformError(
                f"HTTP 413: the request is too large ({_detail(response)}); lower max_entries", status=status
            )
        try:
            answer = response.json()
        except (ValueError, RecursionError) as error:
            if status == 200:
                raise Transient(f"{operation}: HTTP 200 with a body that is not JSON", status=status) from error
            raise PlatformError(f"{operation}: HTTP {status}: {_detail(response)}", status=status) from error
        if not isinstance(answer, dict) or ("data" not in answer and "errors" not in answer):
            if status == 200:
                raise Transient(f"{operation}: HTTP 200 with no GraphQL data or errors", status=status)
            raise PlatformError(f"{operation}: HTTP {status}: {_detail(response)}", status=status)
        if answer.get("errors"):
            messages = graphql_messages(answer["errors"])
            if _AUTH_MESSAGE.search(messages):
                raise PlatformAuthError(
                    f"RedBrick refused {operation} for connection {self.redbrick_conn_id!r}: {messages}", status=status
                )
            raise RedBrickRefusal(messages, status=status)
        if status != 200:
            raise PlatformError(f"{operation}: HTTP {status}: {_detail(response)}", status=status)
        data = answer.get("data")
        return dict(data) if isinstance(data, dict) else {}


def _detail(response: requests.Response) -> str:
    """A short, single-line description of an error body."""
    return response_detail(response, 300)
