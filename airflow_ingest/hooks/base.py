"""What every platform hook shares: its connection read once, its API key, its base URL, its paced and retried
requests, and a session that keeps credentials from following a redirect.

The retry policy itself (attempts, backoff, Retry-After) is in :mod:`airflow_ingest.hooks.retries`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from functools import cached_property
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote, quote_plus, urlsplit

import requests
from airflow.sdk import BaseHook

from airflow_ingest.core.errors import ConnectionConfigError, PlatformAuthError, PlatformError
from airflow_ingest.core.flags import FALSE_WORDS, TRUE_WORDS
from airflow_ingest.core.outcomes import cut_short
from airflow_ingest.core.ratelimit import RateLimiter
from airflow_ingest.hooks.retries import RETRY_STATUSES, RetryPolicy, Transient, extra_number, parse_retry_after


def untrusted_certificate(conn_id: str, url: str, error: BaseException) -> PlatformAuthError:
    """A TLS verification failure: no retry can fix it, and every request of the run would fail the same way."""
    return PlatformAuthError(
        f"the TLS certificate of {url.split('/', 3)[2] if '://' in url else url} could not be verified "
        f"(connection {conn_id!r}: {type(error).__name__}); fix the server's certificate, or set the "
        "connection's extra.verify_tls to the path of a CA bundle that signed it"
    )


T = TypeVar("T")


class PlatformHook(BaseHook):
    """What the platform hooks share: their connection, fetched once, and their retry policy.

    Subclasses set Airflow's ``conn_name_attr`` / ``default_conn_name`` / ``conn_type`` / ``hook_name`` and
    ``default_policy``, and call ``super().__init__(conn_id, ...)`` from a constructor that names the connection
    argument (and attribute) the platform's way (``darwin_conn_id``, ...), as Airflow expects of hooks.
    """

    default_policy: ClassVar[RetryPolicy]
    conn_type: ClassVar[str]
    default_requests_per_minute: ClassVar[float] = 0
    """The client-side pace when the connection's ``extra.requests_per_minute`` says nothing (0: none)."""

    def __init__(
        self,
        conn_id: str,
        *,
        max_attempts: int | None = None,
        wait_initial: float | None = None,
        wait_max: float | None = None,
    ) -> None:
        super().__init__()
        self.platform_conn_id = conn_id
        self._policy = {"max_attempts": max_attempts, "wait_initial": wait_initial, "wait_max": wait_max}

    @cached_property
    def _connection(self) -> Any:
        """Fetched once: inside a task every lookup is a call to Airflow's API. An unknown id names the fix."""
        from airflow.sdk.exceptions import AirflowNotFoundException

        try:
            return self.get_connection(self.platform_conn_id)
        except AirflowNotFoundException:
            raise PlatformAuthError(
                f"connection {self.platform_conn_id!r} is not defined: create it under Admin > Connections "
                f"(type {self.conn_type!r}) or set AIRFLOW_CONN_{self.platform_conn_id.upper()}"
            ) from None

    @cached_property
    def extra(self) -> dict[str, Any]:
        """The connection's extra, which must be a JSON object (a list or a number in it is a configuration error)."""
        extra = self._connection.extra_dejson
        if not isinstance(extra, dict):
            raise ConnectionConfigError(
                self.platform_conn_id, "extra", f"is a JSON {type(extra).__name__}: write a JSON object ({{...}})"
            )
        return extra

    def extra_number(self, name: str, default: float, *, positive: bool = False, whole: bool = False) -> float:
        """A number from the extra, or ``default``; a wrong type or value is a one-line configuration error."""
        value = self.extra.get(name, default)
        return extra_number(self.platform_conn_id, f"extra.{name}", value, positive=positive, whole=whole)

    def read_connection(self) -> None:
        """Read and check the whole connection now, so a malformed one fails before a run lists or sends anything.

        Subclasses extend it with their own settings; here, the extra's shape and the retry policy.
        """
        _ = self.policy

    def api_key(self) -> str:
        """The API key from the password (or ``extra.api_key``), stripped, checked and masked."""
        raw_key = self._connection.password or self.extra.get("api_key")
        if not raw_key or (isinstance(raw_key, str) and not raw_key.strip()):
            raise PlatformAuthError(
                f"connection {self.platform_conn_id!r} has no API key: put it in the password field"
            )
        return checked_secret(self.platform_conn_id, "password (the API key)", raw_key)

    @cached_property
    def limiter(self) -> RateLimiter | None:
        """The client-side pace from ``extra.requests_per_minute`` (an empty value takes the platform's default)."""
        given = self.extra.get("requests_per_minute")
        per_minute = (
            self.default_requests_per_minute
            if given in (None, "")
            else self.extra_number("requests_per_minute", self.default_requests_per_minute)
        )
        return RateLimiter(per_minute) if per_minute > 0 else None

    def pace(self) -> None:
        """Wait for the client-side limit, if any, and say so when it made us wait."""
        if self.limiter is not None:
            waited = self.limiter.acquire()
            if waited:
                self.log.info(
                    "Paced by the client-side limit of %g requests/minute: waited %.1f s",
                    self.limiter.per_minute,
                    waited,
                )

    def retried(self, what: str, call: Callable[[], T], *, log_as: str | None = None) -> T:
        """``call()`` under the retry policy, each retry logged as ``log_as``; :class:`Transient` past the last
        attempt becomes a retryable :class:`PlatformError` that says ``what`` gave up."""
        try:
            for attempt in self.policy.retrying(self.log, log_as or what):
                with attempt:
                    return call()
        except Transient as error:
            raise PlatformError(
                f"{what} gave up after {self.max_attempts} attempts: {error}", status=error.status, retryable=True
            ) from error
        raise AssertionError("unreachable: tenacity either returns or raises")

    def send(
        self, session: requests.Session, method: str, url: str, *, timeout: float, what: str, **kwargs: Any
    ) -> requests.Response:
        """One paced request; transport trouble another attempt may fix raises :class:`Transient`.

        An untrusted certificate is a :class:`PlatformAuthError` (every request would fail alike); too many
        redirects or a malformed ``Location`` is a final :class:`PlatformError` naming ``what``.
        """
        self.pace()
        try:
            return session.request(
                method, url, timeout=(min(timeout, 10.0), timeout), verify=self.tls_verify, **kwargs
            )  # verify per request: requests lets REQUESTS_CA_BUNDLE override a session's own
        except requests.exceptions.SSLError as error:
            raise untrusted_certificate(self.platform_conn_id, url, error) from None
        except requests.Timeout as error:
            raise Transient(f"no answer within {timeout:g} s ({type(error).__name__})") from error
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as error:
            raise Transient(f"connection failed: {type(error).__name__}") from error  # also cut off mid-answer
        except requests.exceptions.ContentDecodingError as error:
            raise Transient("the answer could not be decompressed") from error
        except (requests.RequestException, ValueError) as error:  # too many redirects, a malformed Location
            raise PlatformError(f"{what} failed: {type(error).__name__}", retryable=False) from None

    @cached_property
    def policy(self) -> RetryPolicy:
        return RetryPolicy.resolve(self._policy, self.extra, self.default_policy, self.platform_conn_id)

    @property
    def max_attempts(self) -> int:
        return self.policy.max_attempts

    @cached_property
    def tls_verify(self) -> bool | str:
        """``requests``' ``verify``: on unless the connection's ``extra.verify_tls`` says otherwise.

        ``false`` turns verification off (a private gateway with a self-signed certificate) and says so in the
        log every time a hook is made; a path names a CA bundle to verify against instead of the system's.
        """
        value = self.extra.get("verify_tls")
        text = "" if value is None else str(value).strip()
        if not text or text.lower() in TRUE_WORDS:  # unset, null or blank keeps verification on
            return True
        if text.lower() in FALSE_WORDS:
            self.log.warning(
                "TLS certificate verification is OFF for connection %r (extra.verify_tls=false): anyone on the "
                "network path can read the API key; remove verify_tls or point it at a CA bundle",
                self.platform_conn_id,
            )
            return False
        return text


def raise_if_transient(response: requests.Response, detail: str) -> None:
    """429 and 5xx are worth another attempt, after the server's ``Retry-After`` when it sent one."""
    if response.status_code in RETRY_STATUSES:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise Transient(f"HTTP {response.status_code}: {detail}", status=response.status_code, retry_after=retry_after)


def response_detail(response: requests.Response, limit: int) -> str:
    """A short, single-line description of an error body, for a reason or a log line."""
    text = cut_short(response.text, limit)
    return text if text else str(response.reason or "no body")


def checked_secret(conn_id: str, field: str, value: object) -> str:
    """An API key or token as read from a connection: stripped, checked, and masked in every form it may take.

    A key pasted with a trailing newline or spaces around it works once stripped. Whitespace or control
    characters inside it, or characters outside printable ASCII, cannot be part of a key (and cannot go into an
    HTTP header): a one-line :class:`ConnectionConfigError` that says where, never what. Every form of the key
    (raw, stripped, its repr, JSON, URL and base64 encodings) is registered with Airflow's secrets masker
    before anything can print it.
    """
    if not isinstance(value, str):
        raise ConnectionConfigError(conn_id, field, f"is a {type(value).__name__}: put the key in as text")
    key = value.strip()
    mask_all(value, key)
    for position, char in enumerate(key, start=1):
        if char.isspace() or not char.isprintable():
            what = "whitespace" if char.isspace() else "a control character"
        elif not char.isascii():
            what = "a non-ASCII character"
        else:
            continue
        raise ConnectionConfigError(
            conn_id,
            field,
            f"holds {what} at character {position} of {len(key)}: an API key is printable ASCII only; "
            "copy it again from the platform",
        )
    return key


def mask_all(*secrets: str) -> None:
    """Register each secret and its encodings with Airflow's masker, so no log line can carry any of them."""
    from airflow.sdk.log import mask_secret

    for secret in secrets:
        if not secret:
            continue
        raw = secret.encode("utf-8", errors="surrogatepass")
        forms = {
            secret,
            secret.strip(),
            repr(secret)[1:-1],
            json.dumps(secret)[1:-1],
            quote(secret, safe=""),
            quote_plus(secret),
            base64.b64encode(raw).decode().rstrip("="),
            base64.urlsafe_b64encode(raw).decode().rstrip("="),
            raw.hex(),
        }
        for form in forms:
            mask_secret(form)


def checked_base_url(conn_id: str, host: object, default: str) -> str:
    """``scheme://host[:port]`` from a connection's host (https when no scheme), or a one-line error."""
    if host is not None and not isinstance(host, str):
        raise ConnectionConfigError(conn_id, "host", f"is a {type(host).__name__}: use a URL such as {default}")
    url = (host or default).strip().rstrip("/")
    if "://" not in url:
        url = f"https://{url}"
    problem = ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number in range)
    except ValueError as error:
        problem = str(error)
    else:
        if parts.scheme not in ("http", "https"):
            problem = f"scheme {parts.scheme!r} is not http or https"
        elif not parts.hostname:
            problem = "it names no host"
        elif any(c.isspace() or not c.isprintable() for c in url):
            problem = "it holds whitespace or control characters"
    if problem:
        shown = repr(url) if len(url) <= 100 else repr(url[:100] + "…")
        raise ConnectionConfigError(conn_id, "host", f"={shown} is unusable ({problem}): use a URL such as {default}")
    return url


class GuardedSession(requests.Session):
    """A session whose custom credential headers never follow a redirect to another host.

    ``requests`` drops ``Authorization`` when a redirect leaves the host, but not headers it does not know
    carry a secret (V7's and RedBrick's keys travel in ``Authorization: ApiKey`` and ``ApiKey``): those named
    in ``secret_headers`` are dropped under the same rule (``should_strip_auth``).
    """

    def __init__(self, secret_headers: tuple[str, ...]) -> None:
        super().__init__()
        self.secret_headers = secret_headers

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        if prepared_request.url and self.should_strip_auth(response.request.url or "", prepared_request.url):
            for name in self.secret_headers:
                prepared_request.headers.pop(name, None)
        super().rebuild_auth(prepared_request, response)
