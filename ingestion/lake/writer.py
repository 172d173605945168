"""Writing one raw table into the lake: staged beside its folder, then swapped in.

A table is written whole, every export, into a hidden staging folder next to its own
(``<schema>/.<table>.<export id>.new``); once every table of the export is staged they are
swapped in (the old folder moved aside to ``.<table>.<export id>.old``, the new one moved
into place), the manifest is written, and the old folders are removed. A failed export
leaves the tables and the manifest as they were; its leftovers are removed by the next one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from ingestion.lake.filesystem import Lake
from ingestion.lake.layout import PARTITION_FLAVOR, LakeTable, join

log = logging.getLogger(__name__)

MAX_PARTITIONS = 100_000
"""pyarrow refuses more than 1,024 partitions by default: 2.8 years of days."""
STAGING_SUFFIX = ".new"
ASIDE_SUFFIX = ".old"


@dataclass(frozen=True)
class StagedTable:
    """A table written to its staging folder, not yet visible."""

    table: LakeTable
    staging_path: str
    files: tuple[str, ...]
    """The data files, relative to the table's folder."""
    rows: int
    schema: pa.Schema
    """The schema as a reader sees it: the warehouse columns, then the partition column."""


def lake_schema(table: LakeTable, schema: pa.Schema) -> pa.Schema:
    """The warehouse table's schema plus the partition column (a DATE), if any."""
    if table.partition_column is None:
        return schema
    if table.partition_column in schema.names:
        raise ValueError(
            f"{table.qualified_name} already has a column {table.partition_column}: "
            "choose another partition column name in ingestion/lake/layout.py."
        )
    return schema.append(pa.field(table.partition_column, pa.date32()))


def with_partition_column(
    table: LakeTable, schema: pa.Schema, batches: Iterable[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    """Each batch with the UTC date of its business timestamp appended (null stays null)."""
    for batch in batches:
        if table.timestamp_column is None:
            yield batch
            continue
        timestamps = batch.column(table.timestamp_column)
        # a timestamptz column is UTC in arrow, so its cast to a date is the UTC date
        dates = pc.cast(timestamps, pa.date32())
        yield pa.RecordBatch.from_arrays([*batch.columns, dates], schema=schema)


def _partitioning(table: LakeTable) -> ds.Partitioning | None:
    if table.partition_column is None:
        return None
    return ds.partitioning(
        pa.schema([pa.field(table.partition_column, pa.date32())]), flavor=PARTITION_FLAVOR
    )


def staging_path(lake: Lake, table: LakeTable, export_id: str) -> str:
    return join(lake.root, table.schema, f".{table.name}.{export_id}{STAGING_SUFFIX}")


def aside_path(lake: Lake, table: LakeTable, export_id: str) -> str:
    return join(lake.root, table.schema, f".{table.name}.{export_id}{ASIDE_SUFFIX}")


def file_name(export_id: str, index: str = "{i}") -> str:
    """Data file names carry the export id, so files of two exports never mix unnoticed."""
    return f"part-{export_id}-{index}.parquet"


def stage_table(
    lake: Lake,
    table: LakeTable,
    schema: pa.Schema,
    batches: Iterable[pa.RecordBatch],
    export_id: str,
) -> StagedTable:
    """Write the table's rows to its staging folder, partitioned as the layout says."""
    target = staging_path(lake, table, export_id)
    output = lake_schema(table, schema)
    rows = 0
    written: list[str] = []

    def counted(source: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        nonlocal rows
        for batch in source:
            rows += batch.num_rows
            yield batch

    ds.write_dataset(
        counted(with_partition_column(table, output, batches)),
        target,
        schema=output,
        format="parquet",
        partitioning=_partitioning(table),
        basename_template=file_name(export_id),
        filesystem=lake.filesystem,
        max_partitions=MAX_PARTITIONS,
        existing_data_behavior="error",
        file_visitor=lambda written_file: written.append(written_file.path),
    )
    if not written:
        # pyarrow writes nothing for no rows; one empty file keeps the table and its columns
        empty = join(target, file_name(export_id, "0"))
        lake.filesystem.makedirs(target, exist_ok=True)
        with lake.filesystem.open(empty, "wb") as stream:
            pq.write_table(output.empty_table(), stream)
        written.append(empty)
    files = tuple(sorted(path.removeprefix(target).lstrip("/") for path in written))
    log.info("staged %s: %d rows in %d files", table.qualified_name, rows, len(files))
    return StagedTable(table, target, files, rows, output)


def swap_in(lake: Lake, staged: StagedTable, export_id: str) -> str | None:
    """Move the staged folder into the table's place; returns where the old one went."""
    final = join(lake.root, staged.table.path)
    aside = None
    if lake.filesystem.exists(final):
        aside = aside_path(lake, staged.table, export_id)
        lake.filesystem.mv(final, aside, recursive=True)
    lake.filesystem.mv(staged.staging_path, final, recursive=True)
    return aside


def remove_leftovers(lake: Lake, schemas: Iterable[str]) -> list[str]:
    """Remove staging and set-aside folders an interrupted export left in these schemas."""
    removed = []
    for schema in schemas:
        folder = join(lake.root, schema)
        if not lake.filesystem.isdir(folder):
            continue
        for path in lake.filesystem.ls(folder, detail=False):
            name = str(path).rstrip("/").rsplit("/", 1)[-1]
            if name.startswith(".") and name.endswith((STAGING_SUFFIX, ASIDE_SUFFIX)):
                lake.filesystem.rm(path, recursive=True)
                removed.append(str(path))
    if removed:
        log.info("removed %d folders an interrupted lake export left behind", len(removed))
    return removed
