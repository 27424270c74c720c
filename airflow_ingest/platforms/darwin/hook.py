"""The V7 Darwin hook: one Airflow connection of type ``darwin`` to a requests session with retries.

Connection: ``host`` is the API base URL (default ``https://darwin.v7labs.com``), ``password`` the API key,
``extra.team_slug`` the team. Optional extras: ``timeout`` (seconds per request, default 60) and
``requests_per_minute`` (default 100, V7's documented limit; 0 turns the client-side limit off), and the
retry policy ``max_attempts`` (default 8), ``wait_initial`` (2 s) and ``wait_max`` (120 s).

Retries follow V7's guidance (retry 429 and 5xx with backoff; darwin-py does the same with tenacity) but
honour ``Retry-After`` and always time out, which darwin-py does not. ``register_existing`` is safe to
resend: an item that did land the first time comes back ``ALREADY_EXISTS``, which counts as a duplicate.
"""

from __future__ import annotations

import json
import re
from functools import cached_property
from typing import Any

import requests

from airflow_ingest.core.errors import ConnectionConfigError, PlatformAuthError, PlatformError
from airflow_ingest.core.outcomes import raw_text
from airflow_ingest.hooks.base import (
    GuardedSession,
    PlatformHook,
    checked_base_url,
    raise_if_transient,
    response_detail,
)
from airflow_ingest.hooks.retries import RetryPolicy, Transient

DEFAULT_HOST = "https://darwin.v7labs.com"
DEFAULT_POLICY = RetryPolicy(max_attempts=8, wait_initial=2.0, wait_max=120.0)


class DarwinHook(PlatformHook):
    """Talks to V7 Darwin's REST API on behalf of a ``darwin`` connection.

    :param darwin_conn_id: the connection holding the API base URL, key and team slug.
    :param max_attempts: attempts per request before giving up on 429, 5xx, timeouts and resets.
    :param wait_initial: the first backoff step in seconds; later waits grow exponentially with jitter.
    :param wait_max: the longest backoff between two attempts, and the cap on a server's Retry-After.
    """

    conn_name_attr = "darwin_conn_id"
    default_conn_name = "darwin_default"
    conn_type = "darwin"
    default_policy = DEFAULT_POLICY
    default_requests_per_minute = 100  # V7's documented limit: pacing ourselves beats being told so with 429s
    hook_name = "V7 Darwin"

    def __init__(
        self,
        darwin_conn_id: str = default_conn_name,
        *,
        max_attempts: int | None = None,
        wait_initial: float | None = None,
        wait_max: float | None = None,
    ) -> None:
        super().__init__(darwin_conn_id, max_attempts=max_attempts, wait_initial=wait_initial, wait_max=wait_max)
        self.darwin_conn_id = darwin_conn_id
        self._storages_checked: set[str] = set()

    @cached_property
    def _settings(self) -> dict[str, Any]:
        """The connection, read and checked once: a wrong value fails here, in one line, before any request."""
        conn = self._connection
        extra = self.extra
        api_key = self.api_key()
        team_slug = extra.get("team_slug")
        if not team_slug:
            raise PlatformAuthError(f"connection {self.darwin_conn_id!r} has no team_slug in its extra")
        if not isinstance(team_slug, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", team_slug.strip()):
            shown = repr(team_slug) if len(repr(team_slug)) <= 80 else f"of type {type(team_slug).__name__}"
            raise ConnectionConfigError(
                self.darwin_conn_id, "extra.team_slug", f"={shown} is invalid: use the team's slug as in its V7 URL"
            )
        return {
            "base_url": checked_base_url(self.darwin_conn_id, conn.host, DEFAULT_HOST),
            "api_key": api_key,
            "team_slug": team_slug.strip(),
            "timeout": self.extra_number("timeout", 60, positive=True),
        }

    @property
    def team_slug(self) -> str:
        return str(self._settings["team_slug"])

    @property
    def base_url(self) -> str:
        return str(self._settings["base_url"])

    def read_connection(self) -> None:
        super().read_connection()
        _ = self._settings, self.limiter

    def get_conn(self) -> requests.Session:
        return self._session

    @cached_property
    def _session(self) -> requests.Session:
        session = GuardedSession(secret_headers=("Authorization",))
        session.headers.update(
            {
                "Authorization": f"ApiKey {self._settings['api_key']}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": "airflow-ingest",
            }
        )
        return session

    def register_existing(self, payload: dict[str, Any] | str, *, readonly: bool = False) -> dict[str, Any]:
        """POST one registration payload and return V7's answer (``items`` and ``blocked_items``).

        The first payload for a storage connection checks it exists (:meth:`check_storage`), as darwin-py's
        ``get_external_storage`` does before it registers anything.
        """
        endpoint = "register_existing_readonly" if readonly else "register_existing"
        body = payload if isinstance(payload, str) else None
        document: dict[str, Any] = json.loads(payload) if isinstance(payload, str) else payload
        self.check_storage(str(document["storage_slug"]), readonly=readonly)
        answer: dict[str, Any] = self._request(
            "POST",
            f"/api/v2/teams/{self.team_slug}/items/{endpoint}",
            data=body.encode() if body is not None else None,
            json=None if body is not None else payload,
        )
        return answer

    def storage_connections(self) -> list[dict[str, Any]]:
        """The team's external storage connections (``name``, ``readonly``, ``provider``...) as darwin-py reads them."""
        listed: list[dict[str, Any]] = self._request("GET", f"/api/teams/{self.team_slug}/storage", shape=list)
        return [c for c in listed if isinstance(c, dict)]

    def check_storage(self, slug: str, *, readonly: bool) -> None:
        """Refuse a storage slug the team does not have before any item is sent; once per slug and hook.

        Every batch would otherwise fail alike (V7 refuses each request). A key that may not list storage
        connections (or any failure to list them) leaves the decision to V7's answer to the registration. A
        connection whose mode differs from the endpoint is logged: the guide sends read-only connections to
        ``register_existing_readonly`` and read-write ones to ``register_existing``.
        """
        if slug in self._storages_checked:
            return
        try:
            connections = self.storage_connections()
        except PlatformError as error:
            self.log.info("Could not list V7 storage connections to check %r (%s); registering anyway", slug, error)
            self._storages_checked.add(slug)
            return
        found = next((c for c in connections if c.get("name") == slug), None)
        if found is None:
            names = ", ".join(repr(c.get("name")) for c in connections) or "none"
            raise PlatformAuthError(
                f"storage_slug={slug!r}: team {self.team_slug!r} has no such storage connection in V7 (it has "
                f"{names}); use the connection's name from V7's Settings > Storage"
            )
        if bool(found.get("readonly")) != readonly:
            mode, fix = ("read-only", "readonly=True") if found.get("readonly") else ("read-write", "readonly=False")
            self.log.warning("V7 storage connection %r is %s; registrations to it usually need %s", slug, mode, fix)
        self._storages_checked.add(slug)

    def token_info(self) -> dict[str, Any]:
        """Who the API key belongs to; ``selected_team.slug`` is the key's team."""
        info: dict[str, Any] = self._request("GET", "/api/users/token_info")
        return info

    def test_connection(self) -> tuple[bool, str]:
        try:
            info = self.token_info()
        except PlatformError as error:
            return False, str(error)
        selected = info.get("selected_team")
        team = selected.get("slug") if isinstance(selected, dict) else None
        if team != self.team_slug:
            return False, f"the API key belongs to team {team!r}, not {self.team_slug!r}: fix extra.team_slug"
        return True, f"Connected to V7 Darwin team {team!r}"

    def dataset_url(self, slug: str) -> str:
        """The dataset's page in V7's web app, which names datasets by numeric id (darwin-py's ``remote_path``).

        One ``GET /api/datasets`` finds the id; if that fails the link opens the team's dataset list instead,
        because a link is never worth failing a registration.
        """
        try:
            datasets = self._request("GET", "/api/datasets", shape=list)
        except PlatformAuthError:
            raise  # the connection or the key is wrong: registering would fail the same way
        except PlatformError as error:
            self.log.info("No dataset link: listing V7 datasets failed (%s)", error)
            datasets = []
        found = next((d for d in datasets if isinstance(d, dict) and d.get("slug") == slug and "id" in d), None)
        return f"{self.base_url}/datasets/{found['id']}/dataset-management" if found else f"{self.base_url}/datasets"

    def _request(self, method: str, path: str, *, shape: type = dict, **kwargs: Any) -> Any:
        return self.retried(f"{method} {path}", lambda: self._attempt(method, path, shape, **kwargs), log_as="V7")

    def _attempt(self, method: str, path: str, shape: type, **kwargs: Any) -> Any:
        url = self.base_url + path
        what = f"{method} {url}"
        response = self.send(self._session, method, url, timeout=self._settings["timeout"], what=what, **kwargs)
        status = response.status_code
        if status == 200 or status == 201:
            try:
                answer = response.json()
            except (ValueError, RecursionError):
                raise Transient(
                    f"HTTP {status} with a body that is not JSON: {_error_detail(response)}", status=status
                ) from None
            if not isinstance(answer, shape):
                raise Transient(
                    f"HTTP {status} with a JSON body that is not a {shape.__name__}: {raw_text(answer)}", status=status
                )
            return answer
        detail = _error_detail(response)
        if status == 429 and "INSUFFICIENT_REMAINING_STORAGE" in detail:
            raise PlatformError(f"HTTP 429: the team is out of storage ({detail})", status=status)
        raise_if_transient(response, detail)
        if status in (401, 403):
            raise PlatformAuthError(
                f"V7 refused the API key of connection {self.darwin_conn_id!r} (HTTP {status}: {detail}); "
                "check the key in the connection's password and that it belongs to the team",
                status=status,
            )
        if status == 404:
            raise PlatformAuthError(
                f"V7 found no such team, dataset or storage (HTTP 404: {detail}); check extra.team_slug, "
                "the dataset slug and the storage slug",
                status=status,
            )
        if status == 413:
            raise PlatformError(
                f"HTTP 413: the request is too large ({detail}); lower max_entries", status=status, retryable=False
            )
        raise PlatformError(f"HTTP {status}: {detail}", status=status, retryable=False)


def _error_detail(response: requests.Response) -> str:
    """A short, single-line description of an error body (V7 sends ``{"errors": {...}}``)."""
    return response_detail(response, 500)
