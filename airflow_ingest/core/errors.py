"""Errors that name what is wrong and how to fix it, so a user reads one line and knows what to change."""

from __future__ import annotations


class IngestError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(IngestError, ValueError):
    """A parameter, connection or document is wrong; retrying will not help."""

    def __init__(self, parameter: str, value: object, fix: str) -> None:
        self.parameter = parameter
        self.value = value
        self.fix = fix
        super().__init__(f"{parameter}={value!r} is invalid: {fix}")


class PlatformError(IngestError):
    """A platform request that got no usable answer; ``retryable`` says whether sending it again may help."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False) -> None:
        self.status = status
        self.retryable = retryable
        super().__init__(message)


class PlatformAuthError(PlatformError):
    """The platform refused the credentials or the target itself: every request would fail the same way."""


class ConnectionConfigError(PlatformAuthError, ConfigError):
    """A connection that cannot work as configured: a malformed key, a wrong type in its extra, an unusable host.

    Raised once, before any request, and never retried. It is both a :class:`ConfigError` (the CLI exits 2) and
    a :class:`PlatformAuthError` (operators fail the task without retries, hooks stop the batch loop). Its
    message is one line and never quotes a secret (``value`` stays None).
    """

    def __init__(self, conn_id: str, field: str, problem: str) -> None:
        self.parameter = f"{conn_id}.{field}"
        self.value = None
        self.fix = problem
        self.status = None
        self.retryable = False
        joint = "" if problem.startswith("=") else " "
        Exception.__init__(self, f"connection {conn_id!r}: {field}{joint}{problem}")


class StorageError(IngestError):
    """A listing that cannot go on: missing bucket, refused credentials, unknown connection."""


def validation_message(parameter: str, error: Exception) -> str:
    """One line naming the field, the value and what pydantic wanted, from a ``ValidationError``."""
    errors = getattr(error, "errors", None)
    if not callable(errors):
        return f"{parameter}: {error}"
    parts = []
    for entry in errors():
        where = ".".join(str(p) for p in (parameter, *entry.get("loc", ())))
        parts.append(f"{where}={entry.get('input')!r}: {entry.get('msg')}")
    return "; ".join(parts)


def optional_int(name: str, value: object) -> int | None:
    """A whole number from a parameter that may arrive as text (templates, forms, CLIs); empty means none."""
    if value is None or value == "" or value == "None":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(str(value))
    except ValueError:
        raise ConfigError(name, value, "use a whole number, or leave it empty for the default") from None
