"""One retry policy, and one base, for every platform hook: bounded attempts, backoff, Retry-After honoured.

A hook raises :class:`Transient` for what another attempt may fix (429, 5xx, timeouts, resets, a cut-off
answer) and anything else for what it cannot; :meth:`RetryPolicy.retrying` runs the attempts. The policy's
three numbers come from the hook's arguments, else the connection's extra, else the platform's defaults.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from typing import Any, ClassVar

from airflow.sdk import BaseHook
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from airflow_ingest.core.errors import ConfigError, PlatformAuthError


class Transient(Exception):
    """A failure worth another attempt; carries the server's Retry-After when it sent one."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header, in either of its HTTP forms (seconds or a date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


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
            try:
                return float(value)
            except (TypeError, ValueError):
                raise ConfigError(f"{conn_id}.extra.{name}", value, "use a number") from None

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
        if isinstance(error, Transient) and error.retry_after is not None:
            return min(float(error.retry_after), self.wait_max)
        return float(wait_random_exponential(multiplier=self.wait_initial, max=self.wait_max)(state))


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
    def policy(self) -> RetryPolicy:
        extra = self._connection.extra_dejson
        return RetryPolicy.resolve(self._policy, extra, self.default_policy, self.platform_conn_id)

    @property
    def max_attempts(self) -> int:
        return self.policy.max_attempts

    @cached_property
    def tls_verify(self) -> bool | str:
        """``requests``' ``verify``: on unless the connection's ``extra.verify_tls`` says otherwise.

        ``false`` turns verification off (a private gateway with a self-signed certificate) and says so in the
        log every time a hook is made; a path names a CA bundle to verify against instead of the system's.
        """
        text = str(self._connection.extra_dejson.get("verify_tls", True)).strip()
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
