"""One retry policy for every platform hook: bounded attempts, backoff, Retry-After honoured.

A hook raises :class:`Transient` for what another attempt may fix (429, 5xx, timeouts, resets, a cut-off
answer) and anything else for what it cannot; :meth:`RetryPolicy.retrying` runs the attempts. The policy's
three numbers come from the hook's arguments, else the connection's extra, else the platform's defaults.
The hooks' shared base is :class:`airflow_ingest.hooks.base.PlatformHook`.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from airflow_ingest.core.errors import ConnectionConfigError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
"""HTTP statuses worth another attempt (what V7 and RedBrick document, and darwin-py retries)."""


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
