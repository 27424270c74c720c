"""Plan a run: group the listed objects into items, batch them under the platform's limits, write manifests.

The manifests land beside the listing. The task returns a few ranges of batch numbers, ``[[1, 625], ...]``:
what the register task maps over (Airflow maps only over a return value). Ranges, not one entry per batch,
keep the XCom a few hundred bytes for a plan of any size and the mapped task under ``max_map_length``. It
also pushes ``run_dir`` and ``summary`` (counts) as XComs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context, ObjectStoragePath, conf
from airflow.sdk.exceptions import AirflowFailException

from airflow_ingest.core.errors import ConfigError, IngestError, optional_int
from airflow_ingest.core.flags import parse_flag
from airflow_ingest.core.ledger import LedgerError
from airflow_ingest.core.plan import REGISTER_TASKS, batch_ranges
from airflow_ingest.operators.progress import logged
from airflow_ingest.pipeline.ledger_destination import store_for
from airflow_ingest.pipeline.planning import plan_run
from airflow_ingest.pipeline.runs import PLAN_FILE, read_listing
from airflow_ingest.storage.listing import complete_target


class PlanBatchesOperator(BaseOperator):
    """Write one validated platform manifest per batch, and ``plan.json``, next to ``objects_path``.

    :param objects_path: the listing written by :class:`ListObjectsOperator`. (templated)
    :param platform: ``darwin``, ``encord`` or ``redbrick``. (templated)
    :param target: how the platform's documents are written: for Darwin ``{"dataset_slug", "storage_slug"}``,
        for Encord ``{"format", "skip_duplicate_urls", "create_video", "url_style", ...}``, for RedBrick
        ``{"storage_id", "form"}``. (templated)
    :param layout: ``file``, ``folder`` or ``study``: how objects group into items. (templated)
    :param state: where sync ledgers live (any ``ObjectStoragePath`` URI); with it, only objects the ledger
        does not hold are planned, and :class:`LedgerCommitOperator` records what got registered. (templated)
    :param sync_name: the ledger's name under ``state`` (default: derived from the destination). (templated)
    :param destination: ``platform_conn_id`` and the register operator's arguments, as given to
        :class:`LedgerCommitOperator`: the ledger belongs to that destination. (templated)
    :param on_change: ``report`` (default) or ``resend`` objects whose etag changed since they were registered.
    :param max_entries: items per batch; the platform's default when not given. (templated)
    :param max_bytes: bytes of referenced objects per batch; the platform's default when not given. (templated)
    :param register_tasks: at most this many ranges of batches are returned, one per mapped register task.
        (templated)
    :param probe: read each new file's header (the ``media`` extra; ffprobe for videos): Darwin read-only
        width/height, Encord imageMetadata/videoMetadata, DICOM slices in header order. (templated)
    :param thumbnails: V7 Darwin read-only only: also write thumbnails and video frames to the bucket where the
        target's ``keys`` templates say, and reference them. Implies ``probe``. (templated)
    :param probe_cache: the probe cache folder on the worker (default ``$AIRFLOW_HOME/airflow-ingest/probe-cache``).
        (templated)
    """

    template_fields: Sequence[str] = (
        "objects_path",
        "platform",
        "target",
        "layout",
        "max_entries",
        "max_bytes",
        "state",
        "sync_name",
        "destination",
        "on_change",
        "register_tasks",
        "probe",
        "thumbnails",
        "probe_cache",
    )
    ui_color = "#fdf6e3"

    def __init__(
        self,
        *,
        objects_path: str,
        platform: str,
        target: dict[str, Any],
        layout: str = "file",
        max_entries: int | str | None = None,
        max_bytes: int | str | None = None,
        state: str | None = None,
        sync_name: str | None = None,
        destination: dict[str, Any] | None = None,
        on_change: str = "report",
        register_tasks: int | str = REGISTER_TASKS,
        probe: bool | str = False,
        thumbnails: bool | str = False,
        probe_cache: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.objects_path = objects_path
        self.platform = platform
        self.target = target
        self.layout = layout
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.state = state
        self.sync_name = sync_name
        self.destination = destination
        self.on_change = on_change
        self.register_tasks = register_tasks
        self.probe = probe
        self.thumbnails = thumbnails
        self.probe_cache = probe_cache

    def execute(self, context: Context) -> list[list[int]]:
        objects_path = ObjectStoragePath(self.objects_path)
        base = objects_path.parent
        from airflow_ingest.platforms import get_platform  # pydantic models: not at parse time

        try:
            listing = read_listing(base, objects_path)
            source = listing.source
            platform = get_platform(self.platform)
            target = dict(self.target)
            target = complete_target(target, source, listing.conn_id, builds_urls=platform.builds_urls(target))
            builder = platform.manifest_builder(target)
            limits = platform.limits_for(
                optional_int("max_entries", self.max_entries), optional_int("max_bytes", self.max_bytes)
            )
            tasks = register_width(self.register_tasks)
            thumbnails = parse_flag(self.thumbnails, "thumbnails")
            probe = parse_flag(self.probe, "probe") or thumbnails
            media = None
            if probe:
                media = platform.media_request(
                    target, listing.conn_id, thumbnails=thumbnails, cache_folder=self.probe_cache
                )
            with listing.objects() as listed:
                store = None
                if self.state:
                    store = store_for(
                        self.state, self.sync_name, self.platform, target, source, self.destination,
                        naming=platform.name_destination,
                    )  # fmt: skip
                    store.ensure_writable()  # now, not in the commit task after everything was sent
                planned = plan_run(
                    logged(listed, self.log, "planned objects"),
                    builder,
                    limits,
                    base,
                    source=source,
                    layout=self.layout,
                    store=store,
                    exhaustive=not listing.filtered,
                    on_change=self.on_change,
                    media=media,
                )
        except LedgerError as error:  # the ledger is read as the plan streams: a damaged file shows up here too
            raise AirflowFailException(f"ledger: {error}") from None
        except IngestError as error:
            raise AirflowFailException(str(error)) from None
        plan, selection, stage = planned.plan, planned.selection, planned.stage
        if stage is not None:
            self.log.info("Media: %s (facts held at most: %d)", stage.stats.to_json(), stage.window.peak)
        if selection is not None:
            self.log.info("Ledger selection: %s", selection.counts)
            for url in selection.changed[:20]:
                self.log.warning("Changed since registered (%s): %s", self.on_change, url)
            for url in selection.vanished[:20]:
                self.log.warning("Registered but no longer in the bucket: %s", url)

        for line in plan.rejected[:20]:
            self.log.warning("No batch can hold it, skipped: %s", line)
        for skipped in plan.skipped[:20]:
            self.log.warning("Skipped %s: %s", skipped["url"], skipped["reason"])
        oversize = [b.path for b in plan.batches if b.oversize]
        if oversize:
            self.log.warning("%d batches hold one item over max_bytes on its own: %s", len(oversize), oversize[:20])
        self.log.info(
            "Plan: %d objects -> %d items in %d batches (%d skipped); limits %s",
            plan.objects,
            plan.items,
            len(plan.batches),
            plan.skipped_count,
            limits,
        )
        ti = context["ti"]
        ti.xcom_push(key="run_dir", value=str(base))
        ti.xcom_push(
            key="summary",
            value={
                "plan_path": str(base / PLAN_FILE),
                **planned.summary(),
                "selection": selection.counts if selection else None,
                "media": stage.stats.to_json() if stage is not None else None,
            },
        )
        ranges = batch_ranges(len(plan.batches), tasks)
        self.log.info("%d batches shared among %d register tasks: %s", len(plan.batches), len(ranges), ranges[:4])
        return ranges


def register_width(value: int | str | None) -> int:
    """``register_tasks`` checked before anything is planned: at least 1, at most ``[core] max_map_length``."""
    tasks = optional_int("register_tasks", value)
    if tasks is None:
        return REGISTER_TASKS
    max_map_length = conf.getint("core", "max_map_length")
    if not 1 <= tasks <= max_map_length:
        fix = f"give 1 to {max_map_length} ([core] max_map_length); each task registers a range of batches"
        raise ConfigError("register_tasks", value, fix)
    return tasks
