"""Running named questions against the marts and writing each answer to a file.

All questions of one call read the marts in one read-only, repeatable-read transaction, so
files exported together agree with each other even if a build finishes meanwhile. csv cells a
spreadsheet would evaluate are neutralised unless ``neutralise_formulas`` is False
(``cells.py``; the CLI reads SHOPFLOW_EXPORT_NEUTRALISE_FORMULAS and ``--raw-cells``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg2.extensions
from psycopg2 import sql

from ingestion.atomic_write import write_atomically
from ingestion.database.connection import connect, database_exists
from ingestion.exports.cells import neutralised_cells
from ingestion.exports.formats import ExportFormat, write_csv, write_parquet
from ingestion.exports.questions import QUESTIONS, Question, question
from ingestion.exports.writer import export_path
from ingestion.semantic import SemanticLayer, SemanticLayerNotBuiltError
from ingestion.settings import ENV_EXPORT_DIR, ConnectionSettings

log = logging.getLogger(__name__)

FOLDER_ADVICE = f"choose a folder you can write to with --out or {ENV_EXPORT_DIR}"

MARTS_SCHEMA = "marts"
"""Production marts: dbt's generate_schema_name puts the marts layer here (no prefix)."""


class AsOfNotSupportedError(ValueError):
    """``--as-of`` was given for a question that has no as-of date; the message says why."""


class MartsNotBuiltError(RuntimeError):
    """The marts a question reads do not exist yet; the message says to run the pipeline."""


@dataclass(frozen=True)
class ExportResult:
    """One written export file."""

    name: str
    path: Path
    rows: int
    format: ExportFormat
    neutralised_cells: int = 0
    """csv cells given a leading ``'`` because a spreadsheet would have run them as formulas."""

    def summary(self) -> str:
        """``open_orders: 123 rows -> exports/open_orders_20261202T101500Z.csv``."""
        rows = "0 rows (empty result)" if self.rows == 0 else f"{self.rows} rows"
        if self.neutralised_cells:
            rows += f" ({self.neutralised_cells} formula-like cells neutralised)"
        return f"{self.name}: {rows} -> {_shown(self.path)}"


def _shown(path: Path) -> str:
    """The path relative to the working directory when it lies below it, else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def check_as_of(chosen: Question, as_of: date | None) -> None:
    """Refuse an as-of date for a question that has none."""
    if as_of is not None and not chosen.supports_as_of:
        raise AsOfNotSupportedError(
            f"{chosen.name} has no --as-of date ({chosen.as_of_note}): leave --as-of out."
        )


def metrics_sql(chosen: Question) -> str:
    """The compiled SQL of the question's saved query, ``%`` escaped for the as-of binding;
    empty for a question that reads a mart."""
    if chosen.saved_query is None:
        return ""
    compiled = SemanticLayer.from_target().compile_saved_query(chosen.saved_query)
    return compiled.replace("%", "%%")


def render_query(
    cursor: psycopg2.extensions.cursor, chosen: Question, schema: str, as_of: date | None
) -> str:
    """The question's SQL on ``schema``, with the as-of condition (or none) bound in and the
    saved query's SQL (semantic layer) in place of ``{metrics}``."""
    condition = chosen.as_of_predicate if as_of is not None else chosen.without_as_of
    composed = sql.SQL(chosen.sql.strip()).format(
        marts=sql.Identifier(schema),
        as_of=sql.SQL(condition or "true"),
        metrics=sql.SQL(metrics_sql(chosen)),
    )
    return cursor.mogrify(composed, {"as_of": as_of}).decode()


def missing_relations(
    cursor: psycopg2.extensions.cursor, schema: str, relations: Sequence[str]
) -> list[str]:
    """The relations, of those named, that ``schema`` does not hold."""
    cursor.execute(
        "select table_name from information_schema.tables"
        " where table_schema = %s and table_name = any(%s)",
        (schema, list(relations)),
    )
    present = {row[0] for row in cursor.fetchall()}
    return [relation for relation in relations if relation not in present]


@contextmanager
def marts_snapshot(settings: ConnectionSettings) -> Iterator[psycopg2.extensions.connection]:
    """A read-only, repeatable-read connection to the warehouse, rolled back and closed after."""
    if not database_exists(settings, settings.database):
        raise MartsNotBuiltError(not_built_message(settings, "the database does not exist"))
    connection = connect(settings)
    try:
        connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
        yield connection
    finally:
        connection.rollback()
        connection.close()


def not_built_message(settings: ConnectionSettings, reason: str) -> str:
    return (
        f"The warehouse {settings.database!r} has not been built yet ({reason}): "
        "run `shopflow run` first."
    )


def _export(
    connection: psycopg2.extensions.connection,
    settings: ConnectionSettings,
    chosen: Question,
    out_dir: Path,
    fmt: ExportFormat,
    as_of: date | None,
    schema: str,
    moment: datetime,
    neutralise_formulas: bool,
) -> ExportResult:
    neutralised = 0
    with connection.cursor() as cursor:
        missing = missing_relations(cursor, schema, chosen.relations)
        if missing:
            reason = f"{schema}.{missing[0]} is missing"
            raise MartsNotBuiltError(not_built_message(settings, reason))
        try:
            query = render_query(cursor, chosen, schema, as_of)
        except SemanticLayerNotBuiltError as error:
            raise MartsNotBuiltError(str(error)) from None
        log.debug("export %s: %s", chosen.name, query)
        path = export_path(out_dir, chosen.name, fmt.value, moment)
        if fmt is ExportFormat.CSV:
            rows = write_atomically(
                path,
                lambda stream: write_csv(
                    cursor, query, stream, neutralise_formulas=neutralise_formulas
                ),
                FOLDER_ADVICE,
            )
            if neutralise_formulas:
                neutralised = neutralised_cells(cursor, query)
        else:
            rows = write_atomically(
                path, lambda stream: write_parquet(connection, query, stream), FOLDER_ADVICE
            )
    log.info(
        "exported %s: %d rows to %s (%d cells neutralised)", chosen.name, rows, path, neutralised
    )
    return ExportResult(chosen.name, path, rows, fmt, neutralised)


def export_question(
    settings: ConnectionSettings,
    name: str,
    out_dir: Path,
    fmt: ExportFormat = ExportFormat.CSV,
    as_of: date | None = None,
    schema: str = MARTS_SCHEMA,
    now: datetime | None = None,
    neutralise_formulas: bool = True,
) -> ExportResult:
    """Write the answer to the question ``name`` to a timestamped file in ``out_dir``.

    Raises ``UnknownQuestionError``, ``AsOfNotSupportedError``, ``MartsNotBuiltError`` or
    ``DatabaseError``, each with a message a person can act on.
    """
    chosen = question(name)
    check_as_of(chosen, as_of)
    moment = now or datetime.now(UTC)
    with marts_snapshot(settings) as connection:
        return _export(
            connection,
            settings,
            chosen,
            out_dir,
            fmt,
            as_of,
            schema,
            moment,
            neutralise_formulas,
        )


BUSINESS_TODAY = "select date_day from {schema}.dim_date where is_business_today"


def business_today(connection: psycopg2.extensions.connection, schema: str) -> date | None:
    """The marts' business day (``dim_date.is_business_today``), None when nothing was built."""
    with connection.cursor() as cursor:
        if missing_relations(cursor, schema, ("dim_date",)):
            return None
        cursor.execute(sql.SQL(BUSINESS_TODAY).format(schema=sql.Identifier(schema)))
        row = cursor.fetchone()
    return row[0] if row else None


def export_all(
    settings: ConnectionSettings,
    out_dir: Path,
    fmt: ExportFormat = ExportFormat.CSV,
    schema: str = MARTS_SCHEMA,
    now: datetime | None = None,
    as_of_business_day: bool = False,
    neutralise_formulas: bool = True,
) -> list[ExportResult]:
    """Write every question to ``out_dir``, one file each, one timestamp.

    All files come from one consistent snapshot of the marts. With ``as_of_business_day``
    the questions that have an as-of date get the marts' business day (the run's
    ``SHOPFLOW_BUSINESS_DATE``, never past the latest activity); the others, and every
    question without it, export whole. Stops at the first failure; files already written stay.
    """
    moment = now or datetime.now(UTC)
    with marts_snapshot(settings) as connection:
        as_of = business_today(connection, schema) if as_of_business_day else None
        return [
            _export(
                connection,
                settings,
                chosen,
                out_dir,
                fmt,
                as_of if chosen.supports_as_of else None,
                schema,
                moment,
                neutralise_formulas,
            )
            for chosen in QUESTIONS.values()
        ]
