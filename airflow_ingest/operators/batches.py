"""What every register operator shares: its range of the plan's batches, resuming, recording outcomes.

The plan task returns a few ranges of batch numbers (``[[1, 625], [626, 1250], ...]``), never one entry
per batch, so its XCom stays a few hundred bytes for a plan of any size and the mapped register task stays
under ``[core] max_map_length``. Each mapped task registers its range in order. A batch that already has
its outcome file is not sent again: an Airflow retry of a task killed part-way resumes at the batch it was
on, and a range that finished is never sent twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from airflow.sdk import BaseOperator, BaseOperatorLink, Context, ObjectStoragePath
from airflow.sdk.exceptions import AirflowFailException

from airflow_ingest.core.errors import ConfigError, PlatformAuthError
from airflow_ingest.core.outcomes import Outcome
from airflow_ingest.core.plan import BatchInfo, Plan
from airflow_ingest.core.report import outcome_path
from airflow_ingest.pipeline.registering import SendContext, check_range, pending_batch, record, register_range
from airflow_ingest.pipeline.runs import MissingRunFile, read_plan
from airflow_ingest.platforms import Platform, Sender, get_platform

if TYPE_CHECKING:
    from airflow.sdk.types import TaskInstanceKey

    from airflow_ingest.hooks.base import PlatformHook

HookT = TypeVar("HookT", bound="PlatformHook")


@contextmanager
def failing_task() -> Iterator[None]:
    """Turn what no retry can fix (refused credentials, an unknown target, a bad argument) into a failed task.

    :class:`PlatformAuthError` and :class:`ConfigError` would fail every other batch (and every Airflow retry)
    the same way, so the task fails at once, with the error's one line and no traceback.
    """
    try:
        yield
    except (PlatformAuthError, ConfigError) as error:
        raise AirflowFailException(str(error)) from None


class TargetLink(BaseOperatorLink):
    """A button on the task that opens the platform target, from the URL the operator found while running.

    The worker evaluates links when the task ends and stores them in XCom for the UI, so the runtime
    attribute named by ``attribute`` is what the button opens.
    """

    name: ClassVar[str] = "Platform"  # type: ignore[misc]
    attribute: ClassVar[str] = "target_url"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        return str(getattr(operator, self.attribute, "") or "")


def parse_range(value: Any) -> tuple[int, int]:
    """``[first, last]`` as the plan returns it, or ``"first-last"`` / ``"n"`` written by hand."""
    try:
        if isinstance(value, str):
            first, _, last = value.strip().partition("-")
            return int(first), int(last or first)
        first, last = value
        return int(first), int(last)
    except (TypeError, ValueError):
        raise AirflowFailException(
            f"batches={value!r} is invalid: give [first, last] batch numbers (the plan task's return value)"
        ) from None


class BatchRegisterOperator(BaseOperator):
    """Register batches ``first..last`` of a planned run, one platform request (or job) per batch.

    Subclasses implement :meth:`register_batch` for their platform. The return value is the range's outcome
    counts; the outcomes themselves are in ``outcomes/batch-NNNNN.json`` beside the manifests.

    :param run_dir: the run folder holding ``plan.json`` and ``manifests/`` (the listing's ``run_dir`` XCom).
        (templated)
    :param batches: ``[first, last]``, one of the plan task's returned ranges; map over the plan's return
        value to register every batch. (templated)
    """

    template_fields: Sequence[str] = ("run_dir", "batches")

    def __init__(self, *, run_dir: str, batches: Sequence[int] | str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_dir = run_dir
        self.batches = batches

    @property
    def batch_label(self) -> str:
        """``batch 7`` or ``batches 1-625``: the mapped task's name in the UI (``map_index_template``)."""
        first, last = parse_range(self.batches)
        return f"batch {first}" if first == last else f"batches {first}-{last}"

    @cached_property
    def run(self) -> ObjectStoragePath:
        return ObjectStoragePath(self.run_dir)

    @cached_property
    def plan(self) -> Plan:
        try:
            return read_plan(self.run)
        except MissingRunFile:
            fix = "run the plan task first"
            raise AirflowFailException(f"run_dir={self.run_dir!r} holds no plan.json: {fix}") from None

    def _range(self) -> tuple[int, int]:
        first, last = parse_range(self.batches)
        try:
            check_range(self.plan, first, last, self.run_dir)
        except ConfigError as error:
            raise AirflowFailException(str(error)) from None
        return first, last

    def execute(self, context: Context) -> dict[str, int]:
        return self.register_range()

    def pending(self) -> int | None:
        """The first batch of the range without outcomes: where a retried or resumed task goes on."""
        return pending_batch(self.run, self.plan, *self._range())

    def register_range(self) -> dict[str, int]:
        """Register the range's batches that have no outcomes yet, in order (:func:`pipeline.register_range`)."""
        first, last = self._range()
        return register_range(self.run, self.plan, first, last, self._send, self.log)

    def _send(self, ctx: SendContext) -> list[Outcome]:
        return self.register_batch(ctx.number, ctx.manifest, ctx.batch)

    def register_batch(self, number: int, manifest: ObjectStoragePath, batch: BatchInfo) -> list[Outcome]:
        """Send batch ``number``'s manifest and return one outcome per item. Subclasses implement it."""
        raise NotImplementedError

    def record(self, manifest: ObjectStoragePath, outcomes: list[Outcome]) -> dict[str, int]:
        """Write the batch's outcomes beside its manifest, log every problem; return the counts."""
        return record(outcome_path(manifest), outcomes, self.log)


class RegisterOperator(BatchRegisterOperator, Generic[HookT]):
    """A platform's register operator: its hook, its retry arguments and its sender, from the registry.

    Like the amazon provider's ``AwsBaseOperator[HookT]``, what differs per platform is declared, not written:
    ``platform_name`` (which :class:`~airflow_ingest.platforms.base.Platform`), the connection argument (named
    the platform's way, ``darwin_conn_id``, set by the subclass) and ``register_args``, the attributes handed to
    the platform's sender as its register keywords. Each batch goes through the sender inside
    :func:`failing_task`.

    :param max_attempts: attempts per request on 429, 5xx and timeouts (default: the connection's, else the
        platform's).
    :param wait_initial: first backoff step in seconds (default: the connection's, else the platform's).
    :param wait_max: longest wait between attempts and cap on Retry-After (default: the connection's, else the
        platform's).
    """

    platform_name: ClassVar[str]
    register_args: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        *,
        max_attempts: int | None = None,
        wait_initial: float | None = None,
        wait_max: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_attempts = max_attempts
        self.wait_initial = wait_initial
        self.wait_max = wait_max

    @classmethod
    def platform(cls) -> Platform:
        return get_platform(cls.platform_name)

    @property
    def platform_conn_id(self) -> str:
        """The (rendered) connection argument, whatever the platform calls it."""
        return str(getattr(self, self.platform().conn_arg))

    @cached_property
    def hook(self) -> HookT:
        """Made on first use, in the worker: the hook module imports requests or an SDK."""
        return self.platform().hook_class()(  # type: ignore[return-value,call-arg]
            self.platform_conn_id,
            max_attempts=self.max_attempts,
            wait_initial=self.wait_initial,
            wait_max=self.wait_max,
        )

    def register_kwargs(self) -> Mapping[str, Any]:
        return {name: getattr(self, name) for name in self.register_args}

    @cached_property
    def sender(self) -> Sender:
        return self.platform().make_sender(self.hook, self.plan.target, self.register_kwargs())

    def prepare(self) -> None:
        """Before the first batch is sent (inside :func:`failing_task`): e.g. find the target's URL for a link."""

    def register_batch(self, number: int, manifest: ObjectStoragePath, batch: BatchInfo) -> list[Outcome]:
        with failing_task():
            if not getattr(self, "_prepared", False):
                self.prepare()
                self._prepared = True
            return self.sender(SendContext(self.run, self.plan, number))
