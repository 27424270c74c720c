"""Branch on a value the run was given (a param, a flag): the platform to register into, a dry run.

An operator rather than ``@task.branch``: the TaskFlow decorators import libcst and friends on every parse of
every DAG file that uses them (the cost: README, Benchmarks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow.sdk import BaseBranchOperator, Context
from airflow.sdk.exceptions import AirflowFailException

from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.flags import parse_flag


class BranchOnValueOperator(BaseBranchOperator):
    """Follow ``branches[value]``; a value with no branch fails the task, naming the value and the choices.

    :param value: what to branch on; compared as lower-case text, so a rendered ``True`` matches ``"true"``.
        (templated)
    :param branches: value -> task id (or ids) to follow.
    :param flag: the value is a yes/no (:func:`~airflow_ingest.core.flags.parse_flag`: ``"on"``, ``"yes"``,
        ``"True"``...), followed as ``branches["true"]`` or ``branches["false"]``.
    """

    template_fields: Sequence[str] = ("value",)

    def __init__(
        self, *, value: Any, branches: Mapping[str, str | list[str]], flag: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.value = value
        self.branches = {str(key).lower(): follow for key, follow in branches.items()}
        self.flag = flag

    def choose_branch(self, context: Context) -> str | Iterable[str]:
        try:
            key = str(parse_flag(self.value, "value")).lower() if self.flag else str(self.value).strip().lower()
        except ConfigError as error:
            raise AirflowFailException(f"{self.task_id}: {error}") from None
        if key not in self.branches:
            raise AirflowFailException(
                f"{self.task_id}: value={self.value!r} has no branch; use one of {', '.join(sorted(self.branches))}"
            )
        return self.branches[key]
