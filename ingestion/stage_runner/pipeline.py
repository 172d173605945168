"""The stages of `shopflow run`, in order: simulate -> ingest -> dbt-build [-> materialize] ->
docs -> export -> report on Postgres (materialize: the feature store's online store, on
request); simulate -> ingest -> history -> lake -> dbt-build on Spark (history:
on Postgres where the loads land, the product snapshot and the erasure of the customers'
change log, which the lake carries to Spark; the marts on Spark are read by Spark users, not
by the export and report stages, which read Postgres). And the selection of a part of them
(``--from`` / ``--only``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from ingestion.exports import export_all
from ingestion.features.feast_process import run_feast_task
from ingestion.lake import export_lake
from ingestion.lake.layout import SOURCE_SCHEMAS
from ingestion.reporting import summary_line, write_report
from ingestion.settings import (
    DEFAULT_TARGET,
    REPO_ROOT,
    SPARK_TARGET,
    ConnectionSettings,
    Settings,
)
from ingestion.simulators.world.pipeline_step import prepare_sources
from ingestion.spark.build import spark_build
from ingestion.stage_runner.ingest_stage import ProgressDisplay, ingest_stage
from ingestion.stage_runner.stages import Stage, StageOutcome
from ingestion.transform.dbt_runner import run_dbt, target_dir
from ingestion.transform.production_build import (
    NothingToRetryError,
    production_build,
    retry_production_build,
)
from ingestion.transform.run_results import read_run_results
from ingestion.transform.stale_models import exclusions, record_stale, stale_nodes

log = logging.getLogger(__name__)

STAGE_NAMES = (
    "simulate",
    "ingest",
    "history",
    "lake",
    "dbt-build",
    "materialize",
    "docs",
    "export",
    "report",
)
"""Every stage of either target, in order (``history`` and ``lake`` on the spark target only,
``materialize`` with ``--materialize`` only)."""
HISTORY_NODES = ("snap_storefront__products", "stg_ops__customer_versions")
"""What the spark target's history stage builds on Postgres, with their parents: the dbt
snapshot recording product history (dbt_project/snapshots/), and the customer versions, whose
pre-hook erases the erased customers from the change log before the lake exports it."""
DBT_BUILD = "dbt-build"
MATERIALIZE = "materialize"


class StageSelectionError(ValueError):
    """``--from`` / ``--only`` named no stage of the pipeline; the message lists them."""


@dataclass(frozen=True)
class RunOptions:
    run_id: str
    full_refresh: bool = False
    seed: int = 42
    scale: float = 1.0
    tick_days: int = 0
    ingest_progress: ProgressDisplay | None = None
    """Opens the progress display of the ingest stage, when a person watches."""
    retry_dbt: bool = False
    """The dbt-build stage resumes the last production build (``dbt retry``)."""
    target: str = DEFAULT_TARGET
    """The profile output dbt builds on: ``dev`` (Postgres) or ``spark``."""
    materialize_features: bool = False
    """Load the feature store's online store after the build (needs `make feast`)."""
    config: Settings = field(kw_only=True)
    """The settings the command resolved once; the stages read them from here."""


def simulate_stage(settings: ConnectionSettings, options: RunOptions) -> Stage:
    def action() -> str:
        return prepare_sources(
            settings,
            options.seed,
            options.scale,
            options.tick_days,
            landing=options.config.landing_dir,
        )

    return Stage("simulate", "source systems: build the world once, tick on request", action)


def dbt_build_stage(
    settings: ConnectionSettings,
    options: RunOptions,
    failed_tables: list[tuple[str, str]] | None = None,
) -> Stage:
    """The production build; the models downstream of ``failed_tables`` (filled by the ingest
    stage) are left out and recorded as stale (``stale_models``)."""

    def action() -> StageOutcome:
        if failed_tables:
            return partial_build(settings, options, failed_tables)
        if options.retry_dbt:
            try:
                results = retry_production_build(settings, options.config)
                return StageOutcome(f"retried: {results.summary()}", results.invocation_id)
            except NothingToRetryError as exc:
                # dbt stopped before running a node (a parse or connection error): build again
                log.info("%s Building from the start instead.", exc)
        results = production_build(
            settings, options.config, options.run_id, full_refresh=options.full_refresh
        )
        return StageOutcome(results.summary(), results.invocation_id)

    description = (
        "dbt retry: the failed and skipped nodes of the last build"
        if options.retry_dbt
        else "seeds, models, snapshots and tests, then source freshness"
    )
    return Stage(DBT_BUILD, description, action)


def partial_build(
    settings: ConnectionSettings, options: RunOptions, failed_tables: list[tuple[str, str]]
) -> StageOutcome:
    """Build everything that does not depend on the raw tables that failed to load; keep the
    names of the models left stale for `shopflow status` and the report."""
    try:
        results = production_build(
            settings,
            options.config,
            options.run_id,
            full_refresh=options.full_refresh,
            exclude=exclusions(failed_tables),
        )
    finally:
        stale = stale_nodes(target_dir() / "manifest.json", failed_tables)
        record_stale(settings, options.run_id, stale)
    tables = ", ".join(f"{source}.{table}" for source, table in dict.fromkeys(failed_tables))
    return StageOutcome(
        f"{results.summary()}; {len(stale)} model(s) left stale (they depend on {tables}, "
        "which failed to load)",
        results.invocation_id,
    )


def history_stage(settings: ConnectionSettings, config: Settings) -> Stage:
    def action() -> StageOutcome:
        # on Postgres whatever SHOPFLOW_TARGET says: Spark without Delta has no snapshots,
        # and the erasure hook runs on Postgres only
        selected = [f"+{node}" for node in HISTORY_NODES]
        # cautious: only the tests whose every parent is built here (a test that also reads
        # an unselected model would fail on a fresh warehouse)
        args = ["build", "--select", *selected, "--indirect-selection", "cautious"]
        run_dbt(args, settings, config, stream=False, target=DEFAULT_TARGET)
        results = read_run_results(target_dir())
        if results is None:
            return StageOutcome("history recorded and erased on Postgres")
        return StageOutcome(results.summary(), results.invocation_id)

    return Stage("history", "on Postgres: the SCD2 history for the lake, erasures applied", action)


def lake_stage(settings: ConnectionSettings, options: RunOptions) -> Stage:
    def action() -> str:
        lake = options.config.lake_url
        export = export_lake(settings, lake, list(SOURCE_SCHEMAS), run_id=options.run_id)
        rows = sum(exported.entry.row_count for exported in export.tables)
        return f"{len(export.tables)} tables, {rows:,} rows in {export.url}"

    return Stage("lake", "the raw layer as Parquet for Spark", action)


def spark_build_stage(settings: ConnectionSettings, options: RunOptions) -> Stage:
    def action() -> StageOutcome:
        results = spark_build(settings, options.config, full_refresh=options.full_refresh)
        return StageOutcome(results.summary(), results.invocation_id)

    return Stage(DBT_BUILD, "dbt build on Spark, from the lake", action)


def materialize_stage(settings: ConnectionSettings, config: Settings) -> Stage:
    """The feature store after the build: registered (idempotent: a fresh clone needs it) and
    its online store loaded with the newest feature rows, erased customers removed."""

    def action() -> str:
        run_feast_task(["apply"], config, settings)
        loaded = run_feast_task(["materialize"], config, settings)
        return "; ".join(
            f"{view} until {result['loaded_until']}, {result['removed_entities']} removed"
            for view, result in loaded.items()
        )

    return Stage(MATERIALIZE, "feature store: the online store from the feature tables", action)


def dbt_docs_stage(
    settings: ConnectionSettings,
    config: Settings,
    failed_tables: list[tuple[str, str]] | None = None,
) -> Stage:
    def action() -> str:
        # the stale models a partial build left out may not exist yet (a fresh warehouse)
        stale = ["--exclude", *exclusions(failed_tables)] if failed_tables else []
        run_dbt(["docs", "generate", *stale], settings, config, stream=False)
        target = target_dir()
        shown = target.relative_to(REPO_ROOT) if target.is_relative_to(REPO_ROOT) else target
        return f"{shown}/index.html, {shown}/catalog.json"

    return Stage("docs", "dbt docs: documentation and lineage", action)


def export_stage(settings: ConnectionSettings, config: Settings) -> Stage:
    def action() -> str:
        # a run for a business day (SHOPFLOW_BUSINESS_DATE) exports the dated questions as of it
        dated = config.business_date is not None
        results = export_all(
            settings,
            config.export_dir,
            as_of_business_day=dated,
            neutralise_formulas=config.export_neutralises_formulas,
        )
        rows = sum(result.rows for result in results)
        folder = results[0].path.parent if results else config.export_dir
        shown = folder.relative_to(REPO_ROOT) if folder.is_relative_to(REPO_ROOT) else folder
        as_of = " (dated questions as of the business day)" if dated else ""
        neutralised = sum(result.neutralised_cells for result in results)
        cells = f", {neutralised:,} formula-like cells neutralised" if neutralised else ""
        return f"{len(results)} files, {rows:,} rows in {shown}/{as_of}{cells}"

    return Stage("export", "the named questions as csv files", action)


def report_stage(settings: ConnectionSettings, config: Settings) -> Stage:
    def action() -> str:
        return summary_line(write_report(settings, config.report_dir))

    return Stage("report", "the HTML report with charts", action)


def pipeline_stages(settings: ConnectionSettings, options: RunOptions) -> list[Stage]:
    # tables the ingest stage could not load; the build leaves out what depends on them. Spark
    # builds from the lake of every raw table: there a failed table stops the run (no list)
    failed_tables: list[tuple[str, str]] | None = None if options.target == SPARK_TARGET else []
    loaded = [
        simulate_stage(settings, options),
        ingest_stage(
            settings,
            run_id=options.run_id,
            progress=options.ingest_progress,
            failed_tables=failed_tables,
            config=options.config,
        ),
    ]
    if failed_tables is None:
        return [
            *loaded,
            history_stage(settings, options.config),
            lake_stage(settings, options),
            spark_build_stage(settings, options),
        ]
    return [
        *loaded,
        dbt_build_stage(settings, options, failed_tables),
        *([materialize_stage(settings, options.config)] if options.materialize_features else []),
        dbt_docs_stage(settings, options.config, failed_tables),
        export_stage(settings, options.config),
        report_stage(settings, options.config),
    ]


def select_stages(
    stages: Sequence[Stage], start: str | None = None, only: str | None = None
) -> list[Stage]:
    """All stages, those from ``start`` on, or the ``only`` one."""
    names = [stage.name for stage in stages]
    for wanted in (start, only):
        if wanted is not None and wanted not in names:
            raise StageSelectionError(
                f"there is no stage {wanted!r}: choose one of {', '.join(names)}"
            )
    if only is not None:
        return [stage for stage in stages if stage.name == only]
    if start is not None:
        return list(stages[names.index(start) :])
    return list(stages)
