"""The sources `shopflow ingest` knows: how to build each one and how its runs are split.

A source is loaded as a sequence of *load units*: each unit is one ``pipeline.run`` of a few
resources that fill one raw table (e.g. ``customers`` plus ``customers_deletions``). Units
make per-table timing, counts and failures exact, and a failing unit does not stop the
others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dlt.common.typing import TLoaderFileFormat
from dlt.extract.source import DltSource

from ingestion.settings import ConnectionSettings, Settings
from ingestion.sources.files import files_source
from ingestion.sources.files.settings import DATASET_NAME as FILES_DATASET
from ingestion.sources.ops import ops_source
from ingestion.sources.ops.settings import DATASET_NAME as OPS_DATASET
from ingestion.sources.ops.settings import TABLE_PRIMARY_KEYS
from ingestion.sources.storefront import storefront_source
from ingestion.sources.storefront.settings import DATASET_NAME as STOREFRONT_DATASET


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
        units=tuple(LoadUnit(table, (table, f"{table}_deletions")) for table in TABLE_PRIMARY_KEYS),
        build=_build_ops,
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
