"""The Label Studio hook: one ``labelstudio`` connection to Label Studio's REST API over ``requests``.

Connection: ``host`` is the server's URL (``http://localhost:8080`` by default, or ``https://app.humansignal.com``),
``password`` the API token. Label Studio offers two kinds: a legacy token (sent as ``Authorization: Token ...``)
and a personal access token, a JWT refresh token that is exchanged at ``/api/token/refresh/`` for an access
token sent as ``Bearer`` (and exchanged again when it expires, after five minutes). The kind is told from the
token itself (a JWT has three dot-separated parts); ``extra.token_type`` (``legacy`` or ``personal``) overrides.
Optional extras: ``timeout`` (seconds per request, default 60), ``project_id`` (checked by ``test_connection``),
and the retry policy ``max_attempts`` (default 6), ``wait_initial`` (1 s) and ``wait_max`` (60 s).

Reads are retried on 429, 5xx, timeouts and resets. An import is sent once per call: resending it blindly could
create its tasks twice (Label Studio does not deduplicate), so :mod:`register` looks its tasks up first.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from typing import Any

import requests

from airflow_ingest.core.errors import ConnectionConfigError, PlatformAuthError, PlatformError
from airflow_ingest.core.outcomes import cut_short
from airflow_ingest.hooks.base import (
    GuardedSession,
    PlatformHook,
    checked_base_url,
    checked_secret,
    raise_if_transient,
)
from airflow_ingest.hooks.retries import RetryPolicy, Transient
from airflow_ingest.platforms.labelstudio.answers import error_detail
from airflow_ingest.platforms.labelstudio.documents import MARKER

DEFAULT_HOST = "http://localhost:8080"
DEFAULT_POLICY = RetryPolicy(max_attempts=6, wait_initial=1.0, wait_max=60.0)
LOOKUP_CHUNK = 100
"""Markers per lookup request: keeps the query string a few KB, under any proxy's URL limit."""


class ImportRefused(PlatformError):
    """A 4xx answer to an import (most often 400: a task the labeling config cannot take); ``body`` as sent."""

    def __init__(self, status: int, body: Any) -> None:
        self.body = body
        super().__init__(f"HTTP {status}: {error_detail(body)}", status=status, retryable=False)


def is_jwt(token: str) -> bool:
    """A personal access token is a JWT: three base64url parts joined by dots, the first a JSON header."""
    parts = token.split(".")
    return len(parts) == 3 and all(parts) and token.startswith("eyJ")


class LabelStudioHook(PlatformHook):
    """Talks to a Label Studio server on behalf of a ``labelstudio`` connection.

    :param labelstudio_conn_id: the connection holding the server URL and the API token.
    :param max_attempts: attempts per read before giving up on 429, 5xx, timeouts and resets.
    :param wait_initial: the first backoff step in seconds.
    :param wait_max: the longest backoff between two attempts, and the cap on a server's Retry-After.
    """

    conn_name_attr = "labelstudio_conn_id"
    default_conn_name = "labelstudio_default"
    conn_type = "labelstudio"
    default_policy = DEFAULT_POLICY
    hook_name = "Label Studio"

    def __init__(
        self,
        labelstudio_conn_id: str = default_conn_name,
        *,
        max_attempts: int | None = None,
        wait_initial: float | None = None,
        wait_max: float | None = None,
    ) -> None:
        super().__init__(labelstudio_conn_id, max_attempts=max_attempts, wait_initial=wait_initial, wait_max=wait_max)
        self.labelstudio_conn_id = labelstudio_conn_id
        self._projects: dict[int, dict[str, Any]] = {}
        self._access: str | None = None
        self._lock = threading.Lock()

    @cached_property
    def _settings(self) -> dict[str, Any]:
        conn = self._connection
        raw = conn.password or self.extra.get("api_key")
        if not raw or (isinstance(raw, str) and not raw.strip()):
            raise PlatformAuthError(
                f"connection {self.labelstudio_conn_id!r} has no API token: put it in the password field"
            )
        token = checked_secret(self.labelstudio_conn_id, "password (the API token)", raw)
        kind = str(self.extra.get("token_type") or ("personal" if is_jwt(token) else "legacy")).strip().lower()
        if kind not in ("legacy", "personal"):
            raise ConnectionConfigError(
                self.labelstudio_conn_id, "extra.token_type", f"={kind!r} is invalid: use legacy or personal"
            )
        return {
            "base_url": checked_base_url(self.labelstudio_conn_id, conn.host, DEFAULT_HOST),
            "token": token,
            "personal": kind == "personal",
            "timeout": self.extra_number("timeout", 60, positive=True),
        }

    @property
    def base_url(self) -> str:
        return str(self._settings["base_url"])

    def read_connection(self) -> None:
        super().read_connection()
        _ = self._settings

    def get_conn(self) -> requests.Session:
        return self._session

    @cached_property
    def _session(self) -> requests.Session:
        session = GuardedSession(secret_headers=("Authorization",))
        session.headers.update({"Accept": "application/json", "User-Agent": "airflow-ingest"})
        return session

    def _authorization(self, renew: bool = False) -> str:
        if not self._settings["personal"]:
            return f"Token {self._settings['token']}"
        with self._lock:
            if self._access is None or renew:
                self._access = self._refresh()
            return f"Bearer {self._access}"

    def _refresh(self) -> str:
        """Exchange the personal access token for an access token (``POST /api/token/refresh/``)."""
        body = {"refresh": self._settings["token"]}
        answer = self._request("POST", "/api/token/refresh/", json=body, authorize=False)
        access = answer.get("access") if isinstance(answer, dict) else None
        if not isinstance(access, str) or not access:
            raise PlatformAuthError(f"Label Studio answered the token refresh without an access token: {answer!r:.200}")
        return access

    # --- operations ---------------------------------------------------------------------------------------

    def whoami(self) -> dict[str, Any]:
        return dict(self._request("GET", "/api/current-user/whoami"))

    def project(self, project_id: int) -> dict[str, Any]:
        """The project's record (title, ``label_config``), fetched once; an unknown project stops the run."""
        if project_id not in self._projects:
            try:
                self._projects[project_id] = dict(self._request("GET", f"/api/projects/{project_id}/"))
            except PlatformError as error:
                if error.status == 404:
                    raise PlatformAuthError(
                        f"Label Studio has no project {project_id} this token can see "
                        f"(connection {self.labelstudio_conn_id!r}): check project_id"
                    ) from None
                raise
        return self._projects[project_id]

    def project_url(self, project_id: int) -> str:
        return f"{self.base_url}/projects/{project_id}/data"

    def find_tasks(self, project_id: int, markers: Iterable[str]) -> dict[str, list[int]]:
        """The project's tasks carrying any of ``markers`` (``data.airflow_ingest``): marker -> task ids."""
        found: dict[str, list[int]] = {}
        wanted = list(dict.fromkeys(markers))
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = wanted[start : start + LOOKUP_CHUNK]
            rule = {"filter": f"filter:tasks:data.{MARKER}", "operator": "in_list", "type": "String", "value": chunk}
            query = json.dumps({"filters": {"conjunction": "and", "items": [rule]}}, separators=(",", ":"))
            page = 1
            while True:
                size = 2 * LOOKUP_CHUNK
                params = {"project": project_id, "query": query, "include": "id,data", "page": page, "page_size": size}
                params["resolve_uri"] = "false"  # the marker is all we read: no storage lookups
                try:
                    answer = self._request("GET", "/api/tasks/", params=params)
                except PlatformError as error:
                    if error.status == 404 and page > 1:  # "Invalid page": the last page was full
                        break
                    raise
                tasks = answer.get("tasks") if isinstance(answer, dict) else None
                if not isinstance(tasks, list):
                    raise PlatformError(f"Label Studio listed tasks in another shape: {answer!s:.200}", retryable=True)
                for task in tasks:
                    data = task.get("data") if isinstance(task, dict) else None
                    mark = data.get(MARKER) if isinstance(data, dict) else None
                    if isinstance(mark, str):
                        found.setdefault(mark, []).append(int(task.get("id", 0)))
                if len(tasks) < size:
                    break
                page += 1
        return found

    def import_tasks(self, project_id: int, tasks: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """POST tasks to the project's import endpoint, once (no retry: see the module's docstring).

        Raises :class:`Transient` when the answer is lost or temporary (the caller looks the tasks up before
        trying again), :class:`ImportRefused` on a 4xx other than auth, :class:`PlatformAuthError` on 401/403.
        """
        body = json.dumps(list(tasks), ensure_ascii=False).encode("utf-8")
        path = f"/api/projects/{project_id}/import"
        return dict(self._attempt("POST", path, data=body, headers={"Content-Type": "application/json"}, refused=True))

    def delete_task(self, task_id: int) -> None:
        """Delete one task (a copy left by a request whose answer was lost); an already gone task is fine."""
        try:
            self._request("DELETE", f"/api/tasks/{task_id}/", allow_empty=True)
        except PlatformError as error:
            if error.status != 404:
                raise

    def import_status(self, project_id: int, job: int) -> dict[str, Any]:
        """An asynchronous import's state (Label Studio Enterprise): ``status`` ends ``completed`` or ``failed``."""
        return dict(self._request("GET", f"/api/projects/{project_id}/imports/{job}"))

    def test_connection(self) -> tuple[bool, str]:
        try:
            user = self.whoami()
            message = f"Connected to Label Studio at {self.base_url} as {user.get('email') or user.get('username')!r}"
            project_id = self.extra.get("project_id")
            if project_id:
                message += f", project {self.project(int(project_id)).get('title')!r}"
        except (PlatformError, ValueError) as error:
            return False, str(error)
        return True, message

    # --- transport ----------------------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, authorize: bool = True, **kwargs: Any) -> Any:
        call = lambda: self._attempt(method, path, authorize=authorize, **kwargs)  # noqa: E731
        return self.retried(f"{method} {path}", call, log_as="Label Studio")

    def _attempt(
        self,
        method: str,
        path: str,
        *,
        authorize: bool = True,
        refused: bool = False,
        allow_empty: bool = False,
        **kwargs: Any,
    ) -> Any:
        url = self.base_url + path
        timeout = float(self._settings["timeout"])
        headers = dict(kwargs.pop("headers", {}))
        for renewed in (False, True):
            if authorize:
                headers["Authorization"] = self._authorization(renew=renewed)
            response = self._send(method, url, timeout, headers=headers, **kwargs)
            expired = response.status_code == 401 and authorize and self._settings["personal"] and not renewed
            if not expired:  # an access token lasts five minutes: exchange the personal token again, once
                break
        return self._judge(method, path, response, refused, allow_empty)

    def _send(self, method: str, url: str, timeout: float, **kwargs: Any) -> requests.Response:
        return self.send(self._session, method, url, timeout=timeout, what=f"{method} {url}", **kwargs)

    def _judge(
        self, method: str, path: str, response: requests.Response, refused: bool, allow_empty: bool = False
    ) -> Any:
        status = response.status_code
        if allow_empty and status == 204:
            return {}
        try:
            body: Any = response.json()
        except (ValueError, RecursionError):
            body = None
        if 200 <= status < 300:
            if body is None:
                raise Transient(f"HTTP {status} with a body that is not JSON", status=status)
            return body
        detail = error_detail(body, cut_short(response.text, 200) or str(response.reason or "no body"))
        raise_if_transient(response, detail)
        if status in (401, 403):
            raise PlatformAuthError(
                f"Label Studio refused the token of connection {self.labelstudio_conn_id!r} (HTTP {status}: "
                f"{detail}); check the API token in the connection's password (legacy or personal access token)",
                status=status,
            )
        if status == 413:
            raise PlatformError(f"HTTP 413: the request is too large ({detail}); lower max_entries", status=status)
        if refused and 400 <= status < 500 and status != 404:
            raise ImportRefused(status, body if body is not None else response.text)
        raise PlatformError(f"{method} {path}: HTTP {status}: {detail}", status=status, retryable=False)
