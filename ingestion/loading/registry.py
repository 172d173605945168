"""The sources `shopflow ingest` knows: how to build each one and how its runs are split.

A source is loaded as a sequence of *load units*: each unit is one ``pipeline.run`` of a few
resources that fill one raw table (e.g. ``customers`` plus ``customers_deletions``). Units
make per-table timing, counts and failures exact, and a failing unit does not stop the
others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import dlt
from dlt.common.typing import TLoaderFileFormat
from dlt.extract.source import DltSource

from ingestion.database.connection import autocommit, connect
from ingestion.settings import (
    OPS_CAPTURE_AUTO,
    OPS_CAPTURE_CURSOR,
    ConnectionSettings,
    Settings,
)
from ingestion.sources.files import files_source
from ingestion.sources.files.settings import DATASET_NAME as FILES_DATASET
from ingestion.sources.ops import ops_log_source, ops_source, unit_names
from ingestion.sources.ops.capture import LogCapture, open_capture
from ingestion.sources.ops.change_log import CHANGE_ID_COLUMN, HISTORY_TABLES
from ingestion.sources.ops.settings import DATASET_NAME as OPS_DATASET
from ingestion.sources.ops.settings import SOURCE_SCHEMA, TABLE_PRIMARY_KEYS
from ingestion.sources.ops.slot import missing_capability
from ingestion.sources.storefront import storefront_source
from ingestion.sources.storefront.settings import DATASET_NAME as STOREFRONT_DATASET

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StorefrontEndpoint:
    """Where the storefront API answers and the key to use (else dlt configuration decides)."""

    base_url: str
    api_key: str = field(repr=False)


@dataclass(frozen=True)
class IngestContext:
    """What building a source may need: the servers, the project's settings (the landing
    zone, the package attempts), the API endpoint."""

    settings: ConnectionSettings
    config: Settings
    """The settings the command resolved once (``Settings.from_environment``)."""
    storefront: StorefrontEndpoint | None = None

    @property
    def landing_path(self) -> Path:
        return self.config.landing_dir

    @property
    def quarantine_path(self) -> Path:
        return self.config.quarantine_dir

    @property
    def package_attempts(self) -> int:
        """Failed runs a pending load package gets before its rows are set aside."""
        return self.config.package_attempts


@dataclass(frozen=True)
class LoadUnit:
    """One ``pipeline.run``: the resources it selects and the raw table they fill."""

    table: str
    resources: tuple[str, ...]


@dataclass(frozen=True)
class SourceReader:
    """What the load units of one source run build their source from."""

    build: Callable[[], DltSource]
    loaded: Callable[[bool], None] | None = None
    """Told once, after the units, whether every one loaded (a log reader then confirms its
    position: see ``ingestion.sources.ops.capture``)."""
    note: str | None = None
    """One sentence for the run's audit row (a resync, and why)."""
    together: bool = False
    """Whether the units may load in one ``pipeline.run`` (see ``runner``): only for a read
    that can be repeated, as a failed run is then redone unit by unit from the same read."""
    idle: Callable[[LoadUnit], bool] = lambda unit: False
    """Whether a unit has nothing to load from this read (a run of units together leaves it
    out); when unsure, False."""


OpenReader = Callable[[IngestContext, "dlt.Pipeline"], AbstractContextManager[SourceReader]]


@dataclass(frozen=True)
class SourceSpec:
    """A source `shopflow ingest` can run."""

    name: str
    dataset: str
    loader_file_format: TLoaderFileFormat | None
    """``csv`` (Postgres COPY) for Arrow-heavy sources; None keeps dlt's default."""
    units: tuple[LoadUnit, ...]
    build: Callable[[IngestContext], DltSource]
    extra_tables: tuple[str, ...] = ()
    """Tables besides ``rejected_records`` that exist from the first run, even empty."""
    reader: OpenReader | None = None
    """For a source whose units share one read (the operations log); None: each unit
    builds the source afresh with ``build``."""
    kept_tables: dict[str, str] = field(default_factory=dict)
    """Append-only history tables (and the column that identifies a row) whose rows a full
    refresh carries over: a reload cannot recreate what they recorded."""

    def open_reader(
        self, context: IngestContext, pipeline: dlt.Pipeline
    ) -> AbstractContextManager[SourceReader]:
        """The run's reader: ``reader`` when the source has one, else ``build`` per unit."""
        if self.reader is not None:
            return self.reader(context, pipeline)
        return nullcontext(SourceReader(partial(self.build, context)))


def _build_storefront(context: IngestContext) -> DltSource:
    if context.storefront is None:
        return storefront_source()
    return storefront_source(
        base_url=context.storefront.base_url, api_key=context.storefront.api_key
    )


def _build_ops(context: IngestContext) -> DltSource:
    return ops_source(
        credentials=context.settings.ops_url,
        warehouse_credentials=context.settings.warehouse_url,
    )


def reads_ops_log(context: IngestContext) -> bool:
    """Whether the operations database is read from its log: ``cdc`` asked for, or unset
    and the server allows it (else the ``cursor`` reader, saying why once)."""
    mode = context.config.ops_capture
    if mode == OPS_CAPTURE_CURSOR:
        return False
    if mode == OPS_CAPTURE_AUTO:
        with autocommit(context.settings, context.settings.ops_database) as cursor:
            missing = missing_capability(cursor)
        if missing:
            log.warning("ops: read by its updated_at cursors, not its log: %s", missing)
            return False
    return True


@contextmanager
def _ops_log_reader(context: IngestContext, pipeline: dlt.Pipeline) -> Iterator[SourceReader]:
    settings = context.settings
    with open_capture(
        settings.ops_url,
        settings.warehouse_url,
        settings.database,
        SOURCE_SCHEMA,
        pipeline.dataset_name,
        dict(TABLE_PRIMARY_KEYS),
    ) as capture:

        def build() -> DltSource:
            return ops_log_source(
                capture,
                credentials=settings.ops_url,
                warehouse_credentials=settings.warehouse_url,
            )

        def loaded(all_loaded: bool) -> None:
            with closing(connect(settings, settings.database)) as warehouse:
                capture.confirm(warehouse, all_loaded)

        note = None
        if capture.copying and capture.position is not None:
            note = f"resync: {capture.reason}; every table copied again from a new slot"
        # changes load together; a copy reads every table whole, one at a time (its progress
        # and its memory are one table's)
        together = not capture.copying
        yield SourceReader(build, loaded, note, together=together, idle=partial(_idle, capture))


def _idle(capture: LogCapture, unit: LoadUnit) -> bool:
    """Whether the log has nothing for a unit's table this run: read (not whole), and no change
    of it left after folding. A table the capture does not read, or lacks, is never idle, nor
    one with a change log (which starts from raw's rows the first time it runs)."""
    if (
        unit.table not in capture.present
        or unit.table in HISTORY_TABLES
        or capture.reads_whole(unit.table)
    ):
        return False
    folded = capture.changes.get(unit.table)
    return folded is None or folded.empty


def _ops_reader(
    context: IngestContext, pipeline: dlt.Pipeline
) -> AbstractContextManager[SourceReader]:
    if reads_ops_log(context):
        return _ops_log_reader(context, pipeline)
    return nullcontext(SourceReader(partial(_build_ops, context)))


def _build_files(context: IngestContext) -> DltSource:
    return files_source(
        landing_dir=str(context.landing_path), quarantine_dir=str(context.quarantine_path)
    )


SOURCES: dict[str, SourceSpec] = {
    "storefront": SourceSpec(
        name="storefront",
        dataset=STOREFRONT_DATASET,
        loader_file_format=None,
        units=(LoadUnit("products", ("products",)), LoadUnit("sales", ("sales",))),
        build=_build_storefront,
    ),
    "ops": SourceSpec(
        name="ops",
        dataset=OPS_DATASET,
        loader_file_format="csv",
        units=tuple(LoadUnit(table, unit_names(table)) for table in TABLE_PRIMARY_KEYS),
        build=_build_ops,
        reader=_ops_reader,
        kept_tables=dict.fromkeys(HISTORY_TABLES.values(), CHANGE_ID_COLUMN),
    ),
    "files": SourceSpec(
        name="files",
        dataset=FILES_DATASET,
        loader_file_format="csv",
        units=(
            LoadUnit("events", ("events",)),
            LoadUnit("marketing_spend", ("marketing_spend",)),
        ),
        build=_build_files,
        extra_tables=("quarantined_files",),
    ),
}
"""Every source, in the order `shopflow ingest all` runs them."""
