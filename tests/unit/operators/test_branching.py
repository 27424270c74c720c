"""The dry-run gate reads its value as a yes/no, as the report task does: ``"on"`` is a dry run in both."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_ingest.operators.branching import BranchOnValueOperator

BRANCHES = {"true": "planned", "false": "register"}


@pytest.mark.parametrize(
    ("value", "follow"), [("on", "planned"), ("True", "planned"), (False, "register"), ("", "register")]
)
def test_a_flag_gate_follows_the_yes_or_no_branch(value: Any, follow: str) -> None:
    gate = BranchOnValueOperator(task_id="gate", value=value, branches=BRANCHES, flag=True)
    assert gate.choose_branch({}) == follow  # type: ignore[arg-type]


def test_a_value_that_is_not_yes_or_no_fails_naming_it() -> None:
    gate = BranchOnValueOperator(task_id="gate", value="perhaps", branches=BRANCHES, flag=True)
    with pytest.raises(AirflowFailException, match=r"gate: value='perhaps' is invalid"):
        gate.choose_branch({})  # type: ignore[arg-type]
