"""The Encord hook: one Airflow connection of type ``encord`` to the official SDK's user client.

Connection: ``host`` is the API domain (default ``https://api.encord.com``; US: ``https://api.us.encord.com``),
``password`` an Ed25519 private key in OpenSSH format (what ``EncordUserClient.create_with_ssh_private_key``
takes), or ``extra.bearer_token`` instead. Optional extras: ``timeout`` (read timeout per request, default 180 s
like the SDK), ``connect_timeout`` (default 30 s), ``max_retries`` and ``backoff_factor`` (the SDK's own urllib3
retries for idempotent calls, default 3 and 1.5), ``long_poll_seconds`` (how long one status request may
wait on the server, default 30), and the hook's retry policy for polls ``max_attempts`` (5), ``wait_initial``
(1 s), ``wait_max`` (60 s).

Starting a job is not idempotent, so it is never retried blindly: only a 429 (the rate limiter turned the
request away before any handler ran) or a refused connection (nothing was sent) is sent again. A 5xx, a
timeout, a reset or an unreadable answer may have started a job; that is reported as such and the caller
records it (``skip_duplicate_urls`` then makes a later re-send safe). Polling is read-only and retried.
"""

from __future__ import annotations

import functools
import importlib.metadata
import time
from functools import cached_property
from typing import TYPE_CHECKING, Any
from uuid import UUID

import requests
from packaging.version import Version

from airflow_ingest.core.errors import ConfigError, ConnectionConfigError, PlatformAuthError, PlatformError
from airflow_ingest.hooks.base import PlatformHook, checked_base_url, checked_secret
from airflow_ingest.hooks.retries import RetryPolicy, Transient, retry_seconds
from airflow_ingest.platforms.encord.answers import JobResult, job_result_from
from airflow_ingest.platforms.encord.jobs import EncordDestination, destination_key
from airflow_ingest.platforms.encord.keys import check_key, mask_key, normalise_key

if TYPE_CHECKING:
    pass

DEFAULT_DOMAIN = "https://api.encord.com"
DEFAULT_POLICY = RetryPolicy(max_attempts=5, wait_initial=1.0, wait_max=60.0)
INSTALL_HINT = "pip install 'airflow-ingest[encord]'"


MIN_SDK = "0.1.200"
"""The oldest encord this hook runs on (pyproject's bound, tested in tests/conformance/test_encord_min.py): 0.1.175
brought the rate-limit and payload-size errors it maps, 0.1.200 ``get_dataset(include_data_rows=...)``."""


def _installed_version() -> str:
    return importlib.metadata.version("encord")


@functools.cache
def _sdk() -> Any:
    """The ``encord`` package, imported on first use (it is an optional extra) and checked against :data:`MIN_SDK`:
    an older SDK would fail later with an AttributeError or TypeError instead of saying what to do."""
    try:
        import encord.exceptions
        import encord.user_client
    except ImportError:
        raise ConfigError("encord SDK", "not installed", f"install it with {INSTALL_HINT}") from None
    installed = _installed_version()
    if Version(installed) < Version(MIN_SDK):
        raise ConfigError("encord SDK", installed, f"this provider needs encord>={MIN_SDK}: {INSTALL_HINT} --upgrade")
    return encord


class StartUnanswered(PlatformError):
    """The start request got no usable answer: Encord may or may not have started the job."""


def _status_of(error: BaseException) -> int | None:
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


def _describe(error: BaseException) -> str:
    """One line for an SDK or transport error: its message without the SDK's trace context."""
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return f"{type(error).__name__}: {' '.join(str(message).split())}"[:500]


class EncordHook(PlatformHook):
    """Talks to Encord through the official SDK on behalf of an ``encord`` connection.

    :param encord_conn_id: the connection holding the domain and the private key (or bearer token).
    :param connection: an already fetched connection (triggers fetch it asynchronously first).
    :param max_attempts: attempts per status request on 429, 5xx, timeouts and resets.
    :param wait_initial: first backoff step in seconds; later waits grow exponentially with jitter.
    :param wait_max: longest wait between attempts, and the cap on a server's Retry-After.
    """

    conn_name_attr = "encord_conn_id"
    default_conn_name = "encord_default"
    conn_type = "encord"
    default_policy = DEFAULT_POLICY
    hook_name = "Encord"

    def __init__(
        self,
        encord_conn_id: str = default_conn_name,
        *,
        connection: Any | None = None,
        max_attempts: int | None = None,
        wait_initial: float | None = None,
        wait_max: float | None = None,
    ) -> None:
        super().__init__(encord_conn_id, max_attempts=max_attempts, wait_initial=wait_initial, wait_max=wait_max)
        self.encord_conn_id = encord_conn_id
        if connection is not None:
            self.__dict__["_connection"] = connection
        self._targets: dict[str, Any] = {}

    @property
    def _extra(self) -> dict[str, Any]:
        return self.extra

    def _number(self, name: str, default: float) -> float:
        return self.extra_number(name, default)

    @property
    def wait_max(self) -> float:
        return self.policy.wait_max

    @cached_property
    def read_timeout(self) -> int:
        return max(1, int(self._number("timeout", 180)))

    @cached_property
    def long_poll_seconds(self) -> int:
        """One status request waits at most this long on the server; always well inside the read timeout."""
        return max(0, min(int(self._number("long_poll_seconds", 30)), self.read_timeout - 5))

    @cached_property
    def domain(self) -> str:
        host = checked_base_url(self.encord_conn_id, self._connection.host, DEFAULT_DOMAIN)
        port = self._connection.port
        if port:
            if not isinstance(port, int) or not 0 < port < 65536:
                raise ConnectionConfigError(self.encord_conn_id, "port", f"={port!r} is invalid: use 1 to 65535")
            host = f"{host}:{port}"
        return host

    @cached_property
    def client(self) -> Any:
        """The SDK's ``EncordUserClient``, authenticated by the connection's key or bearer token."""
        sdk = _sdk()
        from encord.http.constants import RequestsSettings

        settings = RequestsSettings(
            max_retries=int(self._number("max_retries", 3)),
            backoff_factor=self._number("backoff_factor", 1.5),
            connection_retries=3,
            connect_timeout=max(1, int(self._number("connect_timeout", 30))),
            read_timeout=self.read_timeout,
            write_timeout=self.read_timeout,
        )
        token = self._extra.get("bearer_token")
        key = self._connection.password
        if token:
            return sdk.user_client.EncordUserClient.create_with_bearer_token(
                checked_secret(self.encord_conn_id, "extra.bearer_token", token),
                requests_settings=settings,
                domain=self.domain,
            )
        if not key or not str(key).strip():
            raise PlatformAuthError(
                f"connection {self.encord_conn_id!r} has no credentials: put an Ed25519 private key (OpenSSH "
                "format) in its password, or a bearer_token in its extra"
            )
        key = normalise_key(str(key))
        mask_key(key)
        check_key(key, self.encord_conn_id)
        try:
            return sdk.user_client.EncordUserClient.create_with_ssh_private_key(
                ssh_private_key=key, requests_settings=settings, domain=self.domain
            )
        except ValueError:  # the SDK's message for a non-Ed25519 key quotes the whole key: never pass it on
            raise PlatformAuthError(
                f"connection {self.encord_conn_id!r}: the private key is not an Ed25519 key in OpenSSH format"
            ) from None

    def read_connection(self) -> None:
        super().read_connection()
        _ = self.domain, self.read_timeout, self.long_poll_seconds

    def get_conn(self) -> Any:
        return self.client

    # --- destinations -------------------------------------------------------------------------------

    def target(self, destination: EncordDestination) -> Any:
        """The SDK's ``StorageFolder`` or ``Dataset`` for a destination, looked up once per hook."""
        key = destination_key(destination)
        if key not in self._targets:
            try:
                if destination.folder_uuid is not None:
                    found = self.client.get_storage_folder(destination.folder_uuid)
                else:
                    found = self.client.get_dataset(str(destination.dataset_hash), include_data_rows=False)
            except PlatformError:
                raise
            except Exception as error:
                raise self._refusal(error, f"opening {key}") from None
            self._targets[key] = found
        return self._targets[key]

    # --- jobs ---------------------------------------------------------------------------------------

    def start_job(self, destination: EncordDestination, spec: dict[str, Any]) -> str:
        """Start one upload job for ``spec``; return its id.

        Sent again only after a 429 (refused before any handler ran); any answer that leaves it unknown
        whether a job exists raises :class:`StartUnanswered`.
        """
        target = self.target(destination)
        sdk = _sdk()
        attempts = 0
        while True:
            attempts += 1
            try:
                if destination.folder_uuid is not None:
                    job = target.add_private_data_to_folder_start(
                        integration_id=str(destination.integration_id),
                        private_files=spec,
                        ignore_errors=destination.ignore_errors,
                    )
                else:
                    job = target.add_private_data_to_dataset_start(
                        str(destination.integration_id), spec, ignore_errors=destination.ignore_errors
                    )
                return str(job)
            except sdk.exceptions.RateLimitExceededError as error:
                if attempts >= self.max_attempts:
                    raise PlatformError(
                        f"starting the job was rate limited {attempts} times: {_describe(error)}",
                        status=429,
                        retryable=True,
                    ) from None
                wait = min(retry_seconds(error.retry_after) or 2.0**attempts, self.wait_max)
                self.log.warning("Encord rate limited the job start; starting again in %.1f s", wait)
                time.sleep(wait)
            except (sdk.exceptions.AuthenticationError, sdk.exceptions.AuthorisationError) as error:
                raise self._refusal(error, f"starting a job in {destination_key(destination)}") from None
            except sdk.exceptions.ResourceNotFoundError as error:
                raise self._refusal(error, f"starting a job in {destination_key(destination)}") from None
            except sdk.exceptions.PayloadTooLargeError as error:
                raise PlatformError(
                    f"Encord refused the spec as too large ({_describe(error)}); lower max_entries", status=413
                ) from None
            except (sdk.exceptions.InvalidArgumentsError, sdk.exceptions.MethodNotAllowedError) as error:
                raise PlatformError(f"Encord refused the spec: {_describe(error)}", status=400) from None
            except Exception as error:
                raise StartUnanswered(
                    f"the job start got no usable answer ({_describe(error)}); Encord may have started it",
                    retryable=True,
                ) from None

    def poll(self, destination: EncordDestination, job_id: str, timeout_seconds: int | None = None) -> JobResult:
        """The job's state, waiting up to ``timeout_seconds`` on the server (a long poll; 0 answers at once)."""
        wait = self.long_poll_seconds if timeout_seconds is None else max(0, int(timeout_seconds))
        wait = min(wait, max(0, self.read_timeout - 5))
        return self.retried(
            f"polling job {job_id}", lambda: self._poll_once(destination, job_id, wait), log_as="Encord poll"
        )

    def _poll_once(self, destination: EncordDestination, job_id: str, wait: int) -> JobResult:
        target = self.target(destination)
        sdk = _sdk()
        try:
            if destination.folder_uuid is not None:
                state = target.add_private_data_to_folder_get_result(UUID(job_id), timeout_seconds=wait)
            else:
                state = target.add_private_data_to_dataset_get_result(job_id, timeout_seconds=wait)
            return job_result_from(state, folder=destination.folder_uuid is not None)
        except sdk.exceptions.RateLimitExceededError as error:
            raise Transient(_describe(error), status=429, retry_after=error.retry_after) from None
        except (
            sdk.exceptions.RequestException,
            sdk.exceptions.UnknownException,
            sdk.exceptions.GenericServerError,
            requests.RequestException,
            TimeoutError,
        ) as error:
            raise Transient(_describe(error), status=_status_of(error)) from None
        except (sdk.exceptions.AuthenticationError, sdk.exceptions.AuthorisationError) as error:
            raise self._refusal(error, f"polling job {job_id}") from None
        except sdk.exceptions.ResourceNotFoundError as error:
            raise PlatformError(
                f"Encord knows no job {job_id} in {destination_key(destination)}: {_describe(error)}"
            ) from None
        except sdk.exceptions.EncordException as error:  # e.g. an answer the SDK could not parse
            raise Transient(_describe(error)) from None
        except Exception as error:  # an answer of a shape neither the SDK nor we expected: no result yet
            raise Transient(_describe(error)) from None

    def wait(
        self, destination: EncordDestination, job_id: str, *, timeout: float, poll_seconds: int | None = None
    ) -> JobResult:
        """Poll until the job leaves PENDING or ``timeout`` seconds pass; returns the last state."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            step = self.long_poll_seconds if poll_seconds is None else poll_seconds
            result = self.poll(destination, job_id, int(max(0, min(step, left))))
            if result.finished or time.monotonic() >= deadline:
                return result
            counts = result.counts
            self.log.info(
                "Job %s pending: %d done, %d errors, %d pending", job_id, counts.done, counts.error, counts.pending
            )
            if step <= 0:
                time.sleep(1.0)

    def test_connection(self) -> tuple[bool, str]:
        """One cheap authenticated call: the cloud integrations the key can see."""
        try:
            integrations = self.client.get_cloud_integrations()
        except (PlatformError, ConfigError) as error:  # ConfigError: the SDK is missing or too old
            return False, str(error)
        except Exception as error:
            return False, str(self._refusal(error, "listing cloud integrations"))
        return True, f"Connected to Encord at {self.domain}: {len(integrations)} cloud integrations visible"

    def integration_ids(self) -> set[str]:
        return {str(integration.id) for integration in self.client.get_cloud_integrations()}

    # --- helpers ------------------------------------------------------------------------------------

    def _refusal(self, error: BaseException, doing: str) -> PlatformError:
        sdk = _sdk()
        if isinstance(error, (sdk.exceptions.AuthenticationError, sdk.exceptions.SshKeyNotFound)):
            return PlatformAuthError(
                f"Encord refused the credentials of connection {self.encord_conn_id!r} while {doing} "
                f"({_describe(error)}); check the key in the password (or extra.bearer_token) and the domain "
                f"{self.domain}",
                status=401,
            )
        if isinstance(error, (sdk.exceptions.AuthorisationError, sdk.exceptions.ResourceNotFoundError)):
            return PlatformAuthError(
                f"Encord found no such folder or dataset, or the key may not use it, while {doing} "
                f"({_describe(error)}); check the destination and its permissions",
                status=403,
            )
        if isinstance(error, (sdk.exceptions.RateLimitExceededError, sdk.exceptions.RequestException)):
            return PlatformError(f"{doing} failed: {_describe(error)}", retryable=True)
        return PlatformError(f"{doing} failed: {_describe(error)}")


# --- starting and resuming a batch's job ----------------------------------------------------------------
