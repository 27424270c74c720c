"""One retry policy, and one base, for every platform hook: bounded attempts, backoff, Retry-After honoured.

A hook raises :class:`Transient` for what another attempt may fix (429, 5xx, timeouts, resets, a cut-off
answer) and anything else for what it cannot; :meth:`RetryPolicy.retrying` runs the attempts. The policy's
three numbers come from the hook's arguments, else the connection's extra, else the platform's defaults.
"""

from __future__ import annotations

import base64
import email.utils
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from typing import Any, ClassVar
from urllib.parse import quote, quote_plus, urlsplit

import requests
from airflow.sdk import BaseHook
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from airflow_ingest.core.errors import ConnectionConfigError, PlatformAuthError


class Transient(Exception):
    """A failure worth another attempt; carries the server's Retry-After when it sent one."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)


def parse_retry_after(value: object) -> float | None:
    """Seconds to wait from a ``Retry-After`` header, in either of its HTTP forms (seconds or a date).

    Anything else (other digits than ASCII ones, a negative or absurd number, a date without a zone, not text
    at all) is no hint: None, never an exception, since a bad header must not stop the retries it is about.
    """
    if not isinstance(value, str | bytes | int | float) or isinstance(value, bool):
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if isinstance(value, int | float):
        return retry_seconds(value)
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return retry_seconds(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:  # "-0000" means UTC in RFC 5322; Python returns a naive time for it
            when = when.replace(tzinfo=timezone.utc)
        return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def retry_seconds(value: object) -> float | None:
    """A server's wait hint (an SDK's ``retry_after``, a header's seconds) as finite seconds >= 0, else None."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many attempts, the first backoff step, and the longest wait (which also caps a Retry-After)."""

    max_attempts: int
    wait_initial: float
    wait_max: float

    @classmethod
    def resolve(
        cls, given: Mapping[str, float | None], extra: Mapping[str, Any], defaults: RetryPolicy, conn_id: str
    ) -> RetryPolicy:
        """The hook's arguments first, then the connection's extra, then ``defaults``; a bad value names its field."""

        def number(name: str) -> float:
            value = given.get(name)
            if value is None:
                value = extra.get(name, getattr(defaults, name))
            return extra_number(conn_id, f"extra.{name}", value)

        return cls(max(1, int(number("max_attempts"))), number("wait_initial"), number("wait_max"))

    def retrying(self, log: Any, what: str) -> Retrying:
        """A tenacity loop retrying :class:`Transient` only, logging each retry as ``what`` on the hook's ``log``."""

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            log.warning(
                "%s attempt %d/%d failed (%s); retrying in %.1f s",
                what,
                state.attempt_number,
                self.max_attempts,
                error,
                wait,
            )

        return Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self.wait,
            retry=retry_if_exception_type(Transient),
            before_sleep=before_sleep,
            sleep=time.sleep,
            reraise=True,
        )

    def wait(self, state: RetryCallState) -> float:
        """The server's Retry-After when it sent one (capped at ``wait_max``), else jittered exponential backoff."""
        error = state.outcome.exception() if state.outcome else None
        hint = retry_seconds(error.retry_after) if isinstance(error, Transient) else None
        if hint is not None:
            return min(hint, self.wait_max)
        return float(wait_random_exponential(multiplier=self.wait_initial, max=self.wait_max)(state))


def extra_number(conn_id: str, field: str, value: object, *, positive: bool = False, whole: bool = False) -> float:
    """A finite number >= 0 (> 0 if ``positive``, integral if ``whole``) from a connection's extra (a form may
    hand over text)."""
    number = None if isinstance(value, bool) else retry_seconds(value)
    if number is None or (positive and number <= 0) or (whole and number != int(number)):
        shown = repr(value) if len(repr(value)) <= 60 else f"<a {type(value).__name__}>"
        need = "a whole number" if whole else "a number"
        need += " of at least 1" if whole and positive else " above 0" if positive else " of at least 0"
        raise ConnectionConfigError(conn_id, field, f"={shown} is invalid: use {need}")
    return number


def untrusted_certificate(conn_id: str, url: str, error: BaseException) -> PlatformAuthError:
    """A TLS verification failure: no retry can fix it, and every request of the run would fail the same way."""
    return PlatformAuthError(
        f"the TLS certificate of {url.split('/', 3)[2] if '://' in url else url} could not be verified "
        f"(connection {conn_id!r}: {type(error).__name__}); fix the server's certificate, or set the "
        "connection's extra.verify_tls to the path of a CA bundle that signed it"
    )


class PlatformHook(BaseHook):
    """What the platform hooks share: their connection, fetched once, and their retry policy.

    Subclasses set Airflow's ``conn_name_attr`` / ``default_conn_name`` / ``conn_type`` / ``hook_name`` and
    ``default_policy``, and call ``super().__init__(conn_id, ...)`` from a constructor that names the connection
    argument (and attribute) the platform's way (``darwin_conn_id``, ...), as Airflow expects of hooks.
    """

    default_policy: ClassVar[RetryPolicy]
    conn_type: ClassVar[str]

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
        text = str(self.extra.get("verify_tls", True)).strip()
        if text.lower() in ("true", "1", "yes", "on", ""):
            return True
        if text.lower() in ("false", "0", "no", "off"):
            self.log.warning(
                "TLS certificate verification is OFF for connection %r (extra.verify_tls=false): anyone on the "
                "network path can read the API key; remove verify_tls or point it at a CA bundle",
                self.platform_conn_id,
            )
            return False
        return text


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
