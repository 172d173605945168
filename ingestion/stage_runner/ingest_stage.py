"""The ingest stage of `shopflow run` (and what `shopflow ingest` needs to reach the API).

The storefront source only talks HTTP. When no API is configured
(``SOURCES__STOREFRONT__BASE_URL`` unset) the local simulated storefront API is started for
the duration of the ingestion, serving the operations database of the settings in force;
its generated key is handed to the source. Orchestration may import the simulators;
``ingestion.sources`` never does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext

from ingestion.interrupts import RunInterrupted
from ingestion.loading.registry import SOURCES, IngestContext, StorefrontEndpoint
from ingestion.loading.runner import IngestReport, ingest
from ingestion.loading.source_run import IngestObserver
from ingestion.settings import ConnectionSettings, Settings
from ingestion.stage_runner.stages import Stage

log = logging.getLogger(__name__)

ProgressDisplay = Callable[[], AbstractContextManager[IngestObserver | None]]
"""Opens a progress display for the ingestion (the CLI's rich one) and closes it after."""


@contextmanager
def storefront_endpoint(
    settings: ConnectionSettings, config: Settings, needed: bool = True
) -> Iterator[StorefrontEndpoint | None]:
    """The storefront API to ingest from: the configured one (None: dlt config decides),
    or a local simulated API started for the ``with`` block."""
    if not needed or config.storefront_base_url:
        yield None
        return
    from ingestion.simulators.storefront_api import ApiConfig, running_api

    api = ApiConfig.from_env().with_connection(settings)
    with running_api(api) as handle:
        log.info("ingesting from the local storefront API at %s", handle.base_url)
        try:
            yield StorefrontEndpoint(base_url=handle.base_url, api_key=handle.api_key)
        except RunInterrupted:
            # stopping the API cancels the request we stopped waiting for, which uvicorn
            # reports as an application error with a traceback: it is not one
            logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
            raise


def run_ingestion(
    settings: ConnectionSettings,
    sources: Sequence[str] | None = None,
    full_refresh: bool = False,
    observer: IngestObserver | None = None,
    *,
    run_id: str,
    config: Settings,
    command: str = "ingest",
) -> IngestReport:
    """Ingest the named sources (default: all) under ``run_id``, starting the storefront API
    if needed."""
    names = list(sources or SOURCES)
    with storefront_endpoint(settings, config, needed="storefront" in names) as endpoint:
        context = IngestContext(settings=settings, config=config, storefront=endpoint)
        return ingest(
            names,
            context,
            full_refresh=full_refresh,
            observer=observer,
            run_id=run_id,
            command=command,
        )


def describe(report: IngestReport) -> str:
    """One line for the run summary: rows loaded, rejected, files quarantined."""
    units = report.units
    return (
        f"{sum(u.rows_loaded for u in units):,} rows loaded, "
        f"{sum(u.rows_rejected for u in units):,} rejected, "
        f"{sum(u.files_quarantined for u in units):,} files quarantined "
        f"({len(report.sources)} sources)"
    )


class IngestFailedError(RuntimeError):
    """Load units failed; the message names each with its root cause. With ``keep_going``
    the run goes on (the other tables did load): dbt builds what does not depend on the
    failed ones, and the run ends red."""

    def __init__(self, message: str, keep_going: bool = False) -> None:
        super().__init__(message)
        self.keep_going = keep_going


def ingest_stage(
    settings: ConnectionSettings,
    run_id: str,
    progress: ProgressDisplay | None = None,
    failed_tables: list[tuple[str, str]] | None = None,
    *,
    config: Settings,
) -> Stage:
    """`shopflow run`'s ingest stage: every source, recorded per source under the run's id;
    fails if any load unit failed. Given ``failed_tables``, the failure lets the run go on
    after adding each failed (source, table) to it, for the dbt-build stage to leave out what
    depends on them. ``progress`` opens the display a person watches, if any."""

    def action() -> str:
        with progress() if progress is not None else nullcontext() as observer:
            report = run_ingestion(
                settings, observer=observer, run_id=run_id, config=config, command="run"
            )
        if not report.ok:
            failed_units = [u for u in report.units if u.status != "ok"]
            if failed_tables is not None:
                failed_tables.extend((u.source, u.table) for u in failed_units)
            failed = [f"{u.source}.{u.table}: {u.error}" for u in failed_units if u.error]
            raise IngestFailedError(
                f"{len(failed)} table(s) failed to load: " + "; ".join(failed),
                keep_going=failed_tables is not None,
            )
        return describe(report)

    return Stage("ingest", "dlt: storefront API, operations DB, landing files -> raw_*", action)
