"""Record in the sync's ledger what this run registered, so the next run sends only what is new."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context, ObjectStoragePath
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from airflow_ingest.core.ledger import LedgerError
from airflow_ingest.pipeline.ledger_destination import store_for
from airflow_ingest.pipeline.ledger_store import KEEP_LEDGERS
from airflow_ingest.pipeline.reporting import commit_run
from airflow_ingest.pipeline.runs import MissingRunFile, read_listing


class LedgerCommitOperator(BaseOperator):
    """Merge this run's registered and duplicate items into the ledger, in one atomic head update.

    Runs whatever happened upstream (``trigger_rule="all_done"``): what did get registered is recorded
    even when other batches failed, and failed items stay out so the next run sends them again.

    :param run_dir: the run folder from the plan's XCom. (templated)
    :param state: where ledgers live, as given to :class:`PlanBatchesOperator`; empty skips the task. (templated)
    :param sync_name: the ledger's name, as given to the plan (default: derived the same way). (templated)
    :param target: the platform target, for the default name. (templated)
    :param destination: ``platform_conn_id`` and the register operator's arguments (folder, dataset hash,
        integration, project): with the target, the destination the ledger records and its default name. (templated)
    :param keep_ledgers: ledger files kept after the commit (at least 2; older ones are deleted).
    """

    template_fields: Sequence[str] = ("run_dir", "state", "sync_name", "target", "destination")
    ui_color = "#eef5e9"

    def __init__(
        self,
        *,
        run_dir: str,
        state: str | None,
        platform: str,
        target: dict[str, Any],
        sync_name: str | None = None,
        destination: dict[str, Any] | None = None,
        keep_ledgers: int = KEEP_LEDGERS,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("trigger_rule", "all_done")
        super().__init__(**kwargs)
        self.run_dir = run_dir
        self.state = state
        self.platform = platform
        self.target = target
        self.sync_name = sync_name
        self.destination = destination
        self.keep_ledgers = keep_ledgers

    def execute(self, context: Context) -> dict[str, Any]:
        if not self.state:
            raise AirflowSkipException("no state was given: this run keeps no ledger")
        from airflow_ingest.platforms import get_platform  # the platform's package: not at DAG parse time

        base = ObjectStoragePath(self.run_dir)
        try:
            source = read_listing(base).source
            store = store_for(
                self.state, self.sync_name, self.platform, dict(self.target), source, self.destination,
                naming=get_platform(self.platform).name_destination, keep=self.keep_ledgers,
            )  # fmt: skip
            head = commit_run(store, base, context["run_id"])
        except LedgerError as error:
            raise AirflowFailException(f"ledger: {error}") from None
        except MissingRunFile as error:
            raise AirflowFailException(f"{error}: the listing or plan task did not finish, nothing to commit") from None
        self.log.info("Ledger %s now holds %d objects (%s)", store.folder, head["entries"], head["ledger"])
        return {"sync_name": store.sync_name, "entries": head["entries"]}
