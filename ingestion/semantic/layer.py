"""MetricFlow as a SQL compiler for the warehouse (Postgres).

`mf query` needs a dbt adapter and the project's profile; the pipeline already holds a
connection to the warehouse, possibly a throwaway test database. So MetricFlow only compiles
here: its engine turns a saved query (or metrics and group-bys) into one SQL statement from
``semantic_manifest.json``, which dbt writes into its target folder on every parse or build,
and the caller runs that SQL on its own cursor. The figures are the same as `mf query`'s: the
same engine compiles the same manifest.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2.extensions
from metricflow.data_table.mf_table import MetricFlowDataTable
from metricflow.engine.metricflow_engine import MetricFlowEngine, MetricFlowQueryRequest
from metricflow.protocols.sql_client import SqlEngine
from metricflow.sql.render.postgres import PostgresSQLSqlPlanRenderer
from metricflow.sql.render.sql_plan_renderer import SqlPlanRenderer
from metricflow_semantics.model.dbt_manifest_parser import (
    parse_manifest_from_dbt_generated_manifest,
)
from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup
from metricflow_semantics.sql.sql_bind_parameters import SqlBindParameterSet

from ingestion.transform.dbt_runner import target_dir

log = logging.getLogger(__name__)
# MetricFlow logs every plan it builds at INFO, pages long; its warnings still reach the log
for _chatty in ("metricflow", "metricflow_semantics"):
    logging.getLogger(_chatty).setLevel(logging.WARNING)

SEMANTIC_MANIFEST = "semantic_manifest.json"
"""What dbt writes into its target folder on every parse: semantic models, metrics, queries."""


class SemanticLayerNotBuiltError(FileNotFoundError):
    """dbt has not written a semantic manifest yet; the message says what to run."""


class CompileOnlyError(RuntimeError):
    """MetricFlow asked the compile-only client to run SQL (a bug: callers run it)."""


@dataclass(frozen=True)
class MetricTable:
    """A metric query's answer: MetricFlow's column names (``metric_time__month``,
    ``channel``, ``revenue``, ...) and the rows, values as the database returns them (money
    as Decimal)."""

    columns: tuple[str, ...]
    rows: list[tuple]

    def records(self) -> list[dict[str, Any]]:
        """The rows as dictionaries keyed by column name."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


class _PostgresCompiler:
    """MetricFlow's ``SqlClient`` protocol for compiling only: the engine needs the dialect
    (engine type and plan renderer) to write SQL; running it is the caller's job, on its own
    connection, so the protocol's execution methods refuse."""

    @property
    def sql_engine_type(self) -> SqlEngine:
        return SqlEngine.POSTGRES

    @property
    def sql_plan_renderer(self) -> SqlPlanRenderer:
        return PostgresSQLSqlPlanRenderer()

    def query(
        self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = SqlBindParameterSet()
    ) -> MetricFlowDataTable:
        raise CompileOnlyError("the semantic layer compiles SQL; SemanticLayer.run executes it")

    def execute(
        self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = SqlBindParameterSet()
    ) -> None:
        raise CompileOnlyError("the semantic layer compiles SQL; SemanticLayer.run executes it")

    def dry_run(
        self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = SqlBindParameterSet()
    ) -> None:
        raise CompileOnlyError("the semantic layer compiles SQL; SemanticLayer.run executes it")

    def close(self) -> None:
        """Nothing to close: no connection is opened."""

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"%({bind_parameter_key})s"


def semantic_manifest_path(environment: Mapping[str, str] | None = None) -> Path:
    """Where dbt wrote the semantic manifest: its target folder (``DBT_TARGET_PATH`` if set)."""
    return target_dir(environment=environment) / SEMANTIC_MANIFEST


class SemanticLayer:
    """The project's metrics and saved queries, compiled to Postgres SQL on request."""

    def __init__(self, manifest_path: Path) -> None:
        if not manifest_path.exists():
            raise SemanticLayerNotBuiltError(
                f"No semantic manifest at {manifest_path}: dbt writes it on every parse or "
                "build. Run `shopflow run` (or `dbt parse`) first."
            )
        manifest = parse_manifest_from_dbt_generated_manifest(manifest_path.read_text())
        self._engine = MetricFlowEngine(
            semantic_manifest_lookup=SemanticManifestLookup(manifest),
            sql_client=_PostgresCompiler(),
        )
        self.metric_names = tuple(sorted(metric.name for metric in manifest.metrics))
        self.saved_query_names = tuple(sorted(query.name for query in manifest.saved_queries))

    @classmethod
    def from_target(cls, environment: Mapping[str, str] | None = None) -> SemanticLayer:
        """The semantic layer dbt's last parse or build wrote (``semantic_manifest_path``)."""
        return cls(semantic_manifest_path(environment))

    def compile_saved_query(self, name: str) -> str:
        """The SQL of a saved query (_marts__saved_queries.yml), as `mf query --saved-query`."""
        return self._compile(MetricFlowQueryRequest.create(saved_query_name=name))

    def compile_metrics(
        self,
        metrics: Sequence[str],
        group_by: Sequence[str] = (),
        where: Sequence[str] = (),
        order_by: Sequence[str] = (),
    ) -> str:
        """The SQL of a metric query, as `mf query --metrics ... --group-by ... --where ...
        --order ...` (``-name`` orders descending)."""
        return self._compile(
            MetricFlowQueryRequest.create(
                metric_names=list(metrics),
                group_by_names=list(group_by),
                where_constraints=list(where) or None,
                order_by_names=list(order_by) or None,
            )
        )

    def _compile(self, request: MetricFlowQueryRequest) -> str:
        statement = self._engine.explain(request).sql_statement.without_descriptions
        if statement.bind_parameter_set.param_dict:
            raise CompileOnlyError(f"unexpected bind parameters in {request}")
        return statement.sql

    @staticmethod
    def run(cursor: psycopg2.extensions.cursor, statement: str) -> MetricTable:
        """Run compiled SQL on the caller's cursor."""
        cursor.execute(statement)
        columns = tuple(column.name for column in cursor.description or ())
        return MetricTable(columns, list(cursor.fetchall()))

    def saved_query(self, cursor: psycopg2.extensions.cursor, name: str) -> MetricTable:
        """A saved query's answer, read on the caller's cursor."""
        log.debug("semantic layer: saved query %s", name)
        return self.run(cursor, self.compile_saved_query(name))

    def metrics(
        self,
        cursor: psycopg2.extensions.cursor,
        metrics: Sequence[str],
        group_by: Sequence[str] = (),
        where: Sequence[str] = (),
        order_by: Sequence[str] = (),
    ) -> MetricTable:
        """A metric query's answer, read on the caller's cursor."""
        return self.run(cursor, self.compile_metrics(metrics, group_by, where, order_by))
