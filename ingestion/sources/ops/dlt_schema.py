"""dlt's stored schema follows the raw tables after drift, so no load package is born broken.

dlt keeps its own copy of each raw table's columns (type, nullability) in the pipeline's
schema and checks every new batch against it, not against the warehouse. After ``drift``
changed a raw column, that copy is stale: Arrow refuses a NULL in a column the copy calls
non-nullable (``ArrowInvalid``), and text in a column it calls ``decimal`` leaves a load
package dlt cannot load. Before each run the copy takes the warehouse's word: a raw column
that is nullable is nullable, a raw ``text`` column holds text, a raw ``numeric`` one decimals.
Comparing with the warehouse (rather than remembering what ``drift`` did) makes this
idempotent: a run that stopped between the two steps is completed by the next one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import dlt
from dlt.common.configuration.container import Container
from dlt.common.pipeline import PipelineContext
from psycopg2.extensions import cursor as pg_cursor

from ingestion.sources.ops.drift import table_columns

log = logging.getLogger(__name__)

TEXT_TYPES = ("text", "character varying", "character")


def dlt_data_type(raw_type: str, current: str | None) -> str | None:
    """The dlt data type a column must have to match a raw column of ``raw_type`` (a
    Postgres ``format_type`` name), or None when ``current`` already matches."""
    base = raw_type.split("(")[0]
    if base in TEXT_TYPES and current not in (None, "text"):
        return "text"
    if base == "numeric" and current in ("bigint", "double"):
        return "decimal"
    return None


def follow_raw_tables(
    schema: dlt.Schema, cursor: pg_cursor, raw_schema: str, tables: Iterable[str]
) -> list[str]:
    """Align ``schema``'s columns of ``tables`` with the raw tables; what changed, as
    ``table.column: change`` lines."""
    changed: list[str] = []
    for table in tables:
        if table not in schema.tables:
            continue  # never loaded: dlt learns the columns from the first batch
        raw = table_columns(cursor, raw_schema, table)
        for name, column in schema.tables[table]["columns"].items():
            held = raw.get(name)
            if held is None:
                continue
            if held.nullable and column.get("nullable") is False:
                column["nullable"] = True
                changed.append(f"{table}.{name}: nullable")
            wanted = dlt_data_type(held.type, column.get("data_type"))
            if wanted is not None:
                column["data_type"] = wanted  # type: ignore[typeddict-item]
                column.pop("precision", None)
                column.pop("scale", None)
                changed.append(f"{table}.{name}: {wanted}")
    return changed


def follow_raw_tables_in_pipeline(
    schema_name: str, cursor: pg_cursor, raw_schema: str, tables: Iterable[str]
) -> list[str]:
    """``follow_raw_tables`` on the stored schema of the pipeline about to run (the active
    one, when it loads into ``raw_schema``), saved at once; nothing without such a pipeline."""
    context = Container()[PipelineContext]
    if not context.is_active():
        return []
    pipeline = context.pipeline()
    if not isinstance(pipeline, dlt.Pipeline) or pipeline.dataset_name != raw_schema:
        return []
    if schema_name not in pipeline.schema_names:
        return []
    schema = pipeline.schemas[schema_name]
    changed = follow_raw_tables(schema, cursor, raw_schema, tables)
    if changed:
        pipeline.schemas.save_schema(schema)
        log.warning("dlt schema %s follows the raw tables: %s", schema_name, ", ".join(changed))
    return changed
