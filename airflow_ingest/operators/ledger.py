"""Record in the sync's ledger what this run registered, so the next run sends only what is new."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context, ObjectStoragePath
from airflow.sdk.exceptions import AirflowSkipException

from airflow_ingest.core.ledger import sorted_entries
from airflow_ingest.core.plan import Plan
from airflow_ingest.core.report import registered_entries
from airflow_ingest.core.urls import parse_source
from airflow_ingest.hooks.ledger import LedgerStore, default_sync_name


class LedgerCommitOperator(BaseOperator):
    """Merge this run's registered and duplicate items into the ledger, in one atomic head update.

    Runs whatever happened upstream (``trigger_rule="all_done"``): what did get registered is recorded
    even when other batches failed, and failed items stay out so the next run sends them again.

    :param run_dir: the run folder from the plan's XCom. (templated)
    :param state: where ledgers live, as given to :class:`PlanBatchesOperator`; empty skips the task. (templated)
    :param sync_name: the ledger's name, as given to the plan (default: derived the same way). (templated)
    :param target: the platform target, for the default name. (templated)
    """

    template_fields: Sequence[str] = ("run_dir", "state", "sync_name", "target")
    ui_color = "#eef5e9"

    def __init__(
        self,
        *,
        run_dir: str,
        state: str | None,
        platform: str,
        target: dict[str, Any],
        sync_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("trigger_rule", "all_done")
        super().__init__(**kwargs)
        self.run_dir = run_dir
        self.state = state
        self.platform = platform
        self.target = target
        self.sync_name = sync_name

    def execute(self, context: Context) -> dict[str, Any]:
        if not self.state:
            raise AirflowSkipException("no state was given: this run keeps no ledger")
        base = ObjectStoragePath(self.run_dir)
        plan = Plan.from_json(json.loads((base / "plan.json").read_text(encoding="utf-8")))
        source = parse_source(json.loads((base / "listing.json").read_text(encoding="utf-8"))["source"])
        name = self.sync_name or default_sync_name(self.platform, dict(self.target), source)
        head = LedgerStore(self.state, name).commit(context["run_id"], sorted_entries(registered_entries(base, plan)))
        self.log.info("Ledger %s now holds %d objects (%s)", name, head["entries"], head["ledger"])
        return {"sync_name": name, "entries": head["entries"]}
