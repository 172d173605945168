"""The ingest stage of `shopflow run` (and what `shopflow ingest` needs to reach the API).

The storefront source only talks HTTP. When no API is configured
(``SOURCES__STOREFRONT__BASE_URL`` unset) the local simulated storefront API is started for
the duration of the ingestion, serving the operations database of the settings in force;
its generated key is handed to the source. Orchestration may import the simulators;
``ingestion.sources`` never does.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from ingestion.loading.registry import SOURCES, IngestContext, StorefrontEndpoint
from ingestion.loading.runner import IngestObserver, IngestReport, ingest
from ingestion.orchestration.stages import Stage
from ingestion.settings import ConnectionSettings

log = logging.getLogger(__name__)

ENV_STOREFRONT_BASE_URL = "SOURCES__STOREFRONT__BASE_URL"


@contextmanager
def storefront_endpoint(
    settings: ConnectionSettings, needed: bool = True
) -> Iterator[StorefrontEndpoint | None]:
    """The storefront API to ingest from: the configured one (None: dlt config decides),
    or a local simulated API started for the ``with`` block."""
    if not needed or os.environ.get(ENV_STOREFRONT_BASE_URL):
        yield None
        return
    from ingestion.simulators.storefront_api import ApiConfig, running_api

    config = ApiConfig.from_env().with_connection(settings)
    with running_api(config) as handle:
        log.info("ingesting from the local storefront API at %s", handle.base_url)
        yield StorefrontEndpoint(base_url=handle.base_url, api_key=handle.api_key)


def run_ingestion(
    settings: ConnectionSettings,
    sources: Sequence[str] | None = None,
    full_refresh: bool = False,
    observer: IngestObserver | None = None,
) -> IngestReport:
    """Ingest the named sources (default: all), starting the storefront API if needed."""
    names = list(sources or SOURCES)
    with storefront_endpoint(settings, needed="storefront" in names) as endpoint:
        context = IngestContext(settings=settings, storefront=endpoint)
        return ingest(names, context, full_refresh=full_refresh, observer=observer)


def describe(report: IngestReport) -> str:
    """One line for the run summary: rows loaded, rejected, files quarantined."""
    units = report.units
    return (
        f"{sum(u.rows_loaded for u in units):,} rows loaded, "
        f"{sum(u.rows_rejected for u in units):,} rejected, "
        f"{sum(u.files_quarantined for u in units):,} files quarantined "
        f"({len(report.sources)} sources)"
    )


def ingest_stage(settings: ConnectionSettings, full_refresh: bool = False) -> Stage:
    """`shopflow run`'s ingest stage: every source; fails if any load unit failed."""

    def action() -> str:
        report = run_ingestion(settings, full_refresh=full_refresh)
        if not report.ok:
            failed = [f"{u.source}.{u.table}: {u.error}" for u in report.units if u.error]
            raise RuntimeError("; ".join(failed))
        return describe(report)

    return Stage("ingest", "dlt: storefront API, operations DB, landing files -> raw_*", action)
