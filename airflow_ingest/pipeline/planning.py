"""Plan a run: select what the ledger lacks, probe media when asked, group, batch and write the manifests.

The plan operator and ``airflow-ingest plan``/``sync`` all call :func:`plan_run`. The caller brings what is
platform-specific (the manifest builder and the limits, from the platform) and the listing's objects; this
module brings the order of the steps, which is where the two used to drift apart. Everything streams: the
listing is read once, merged against the sorted ledger, probed, grouped and batched in one pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_ingest.core.batching import Limits
from airflow_ingest.core.errors import ConfigError
from airflow_ingest.core.items import Layout, parse_layout
from airflow_ingest.core.ledger import OnChange, Selection, select
from airflow_ingest.core.objects import StoredObject
from airflow_ingest.core.plan import ManifestBuilder, Plan, make_plan, path_opener
from airflow_ingest.core.probed import Facts
from airflow_ingest.core.thumbnails import DerivedKeys
from airflow_ingest.core.urls import Source
from airflow_ingest.pipeline.ledger_store import LedgerStore

if TYPE_CHECKING:
    from airflow_ingest.media.stage import MediaStage


@dataclass(frozen=True)
class MediaRequest:
    """Probe each new file's header (and with ``thumbnails``, write Darwin read-only thumbnails) while planning.

    The caller, which knows the platform, brings its part (``Platform.media_request``): ``build`` makes the
    platform's builder over the probed facts, ``thumbnails`` are the derived keys its target writes, if any.
    """

    build: Callable[[Facts], ManifestBuilder]
    conn_id: str | None = None
    thumbnails: DerivedKeys | None = None
    cache_folder: str | None = None
    workers: int = 4
    max_frames: int = 1000


@dataclass(frozen=True)
class Planned:
    """The plan, with what the ledger selection counted and what the media stage did (when they ran)."""

    plan: Plan
    selection: Selection | None = None
    stage: MediaStage | None = None

    def summary(self) -> dict[str, Any]:
        """The plan's counts, as the plan task's XCom and the CLI's summary line report them."""
        plan = self.plan
        return {
            "platform": plan.platform,
            "objects": plan.objects,
            "items": plan.items,
            "skipped": plan.skipped_count,
            "batches": len(plan.batches),
        }


def on_change_of(value: str) -> OnChange:
    """``report`` or ``resend``, as a template or a flag gives it."""
    try:
        return OnChange(str(value).strip())
    except ValueError:
        raise ConfigError("on_change", value, "use report or resend") from None


def plan_run(
    objects: Iterable[StoredObject],
    builder: ManifestBuilder,
    limits: Limits,
    folder: Any,
    *,
    source: Source,
    layout: Layout | str = Layout.FILE,
    manifest_dir: str = "manifests",
    store: LedgerStore | None = None,
    exhaustive: bool = True,
    on_change: OnChange | str = OnChange.REPORT,
    media: MediaRequest | None = None,
) -> Planned:
    """Write the plan of ``objects`` into ``folder``: manifests under ``manifest_dir``, item indexes, ``plan.json``.

    With ``store`` only objects its ledger lacks are planned (``exhaustive``: the listing saw the whole
    scope, so ledger entries missing from it are counted as vanished). With ``media`` the objects pass
    through the media stage, whose builder (holding the probed facts) replaces ``builder``. Raises
    :class:`ConfigError` for options that cannot work together, ``LedgerError`` for a ledger that cannot be
    trusted (possibly while streaming), ``StorageError`` for storage that cannot be read.
    """
    layout = parse_layout(layout) if isinstance(layout, str) else layout
    change = on_change if isinstance(on_change, OnChange) else on_change_of(on_change)
    stream: Iterator[StoredObject] = iter(objects)
    selection: Selection | None = None
    if store is not None:
        stream, selection = select(
            stream,
            store.entries(),
            scope=source.object_url(source.prefix),
            exhaustive=exhaustive,
            on_change=change,
        )
    stage: MediaStage | None = None
    if media is not None:
        from airflow_ingest.media.stage import plan_media  # Pillow, pydicom: only when asked

        builder, stream, stage = plan_media(
            media.build,
            source,
            stream,
            conn_id=media.conn_id,
            thumbnails=media.thumbnails,
            cache_folder=media.cache_folder or None,
            workers=media.workers,
            max_frames=media.max_frames,
        )
    plan = make_plan(
        stream, builder, limits, path_opener(folder), layout=layout, prefix=source.prefix, manifest_dir=manifest_dir
    )
    return Planned(plan, selection, stage)
