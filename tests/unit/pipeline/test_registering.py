"""``register_range``: one Sender call per batch without outcomes, outcomes written as each batch is answered."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.outcomes import Outcome, OutcomeKind
from airflow_ingest.core.plan import Plan, make_plan, path_opener
from airflow_ingest.core.report import read_outcomes
from airflow_ingest.pipeline.registering import SendContext, pending_batch, recorded, register_range
from tests.unit.pipeline.runs import builder, objects

log = logging.getLogger("tests.pipeline")


class Sender:
    """Answers every item of a batch with ``kind`` (the item ``k0003.png`` as blocked); remembers what it sent."""

    def __init__(self, kind: OutcomeKind = OutcomeKind.REGISTERED) -> None:
        self.kind = kind
        self.sent: list[int] = []

    def __call__(self, ctx: SendContext) -> list[Outcome]:
        self.sent.append(ctx.number)
        assert '"items"' in ctx.text()  # the batch's Darwin manifest
        return [
            Outcome(item, OutcomeKind.BLOCKED, "UNSUPPORTED")
            if item.endswith("k0003.png")
            else Outcome(item, self.kind)
            for item in (str(line["item"]) for line in ctx.index())
        ]


def planned(run: Path, count: int = 50, per_batch: int = 10) -> Plan:
    return make_plan(objects(count), builder(), Limits(max_entries=per_batch), path_opener(run))


def test_a_range_sends_each_batch_once_and_resumes_where_outcomes_stop(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    plan = planned(tmp_path)
    sender = Sender()
    with caplog.at_level(logging.INFO, logger="tests.pipeline"):
        first = register_range(tmp_path, plan, 1, 2, sender, log)
    assert sender.sent == [1, 2] and first == {"registered": 19, "duplicate": 0, "blocked": 1, "failed": 0}
    assert "blocked /k0003.png: UNSUPPORTED" in caplog.text
    assert read_outcomes(recorded(tmp_path, plan, 1)) is not None
    assert pending_batch(tmp_path, plan, 1, 5) == 3

    again = Sender(OutcomeKind.DUPLICATE)
    counts = register_range(tmp_path, plan, 1, 5, again, log)
    assert again.sent == [3, 4, 5]  # batches 1 and 2 are counted from their files, never sent again
    assert counts == {"registered": 19, "duplicate": 30, "blocked": 1, "failed": 0}
    assert pending_batch(tmp_path, plan, 1, 5) is None


@pytest.mark.parametrize(("first", "last"), [(0, 1), (2, 6), (3, 2)])
def test_a_range_outside_the_plan_is_refused_before_anything_is_sent(tmp_path: Path, first: int, last: int) -> None:
    plan = planned(tmp_path)
    sender = Sender()
    with pytest.raises(ConfigError, match=r"outside the plan's batches 1-5"):
        register_range(tmp_path, plan, first, last, sender, log)
    assert sender.sent == []
