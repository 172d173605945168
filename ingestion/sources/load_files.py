"""Arrow tables handed to dlt as csv load files that it imports as they are.

For a ``csv`` destination dlt writes each Arrow table to a parquet file at extract and
rewrites it as csv at normalize. ``CsvLoadFiles`` writes the csv once, at extract, and hands
each file to dlt with ``dlt.mark.with_file_import``: dlt hard-links it into the load package
and its normalize step has nothing left to do. The files are what dlt's own csv writer
makes (a header of column names, values quoted where needed, null as an empty field) with
the ``_dlt_load_id`` column dlt's normalizer would add, and column names normalized by the
schema's naming convention. dlt still computes the table schema from each file's Arrow
schema (the ``hints``), so a new field becomes a new column as for any Arrow item.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType

import dlt
import pyarrow as pa
import pyarrow.csv as pacsv
from dlt.common.normalizers.naming import NamingConvention
from dlt.common.normalizers.naming.snake_case import NamingConvention as SnakeCaseNamingConvention
from dlt.extract.exceptions import CurrentSourceSchemaNotAvailable
from dlt.extract.items import DataItemWithMeta

from ingestion.settings import state_dir
from ingestion.sources.validation import current_load_id

CSV_FILE_ROWS = 500_000
"""Rows per csv load file (as dlt's own ``file_max_items`` here): fewer, larger files mean
fewer load jobs, while the file is written to disk as it grows, so memory stays flat."""


class CsvLoadFiles:
    """Arrow tables of one table gathered into csv load files of up to ``max_rows`` rows.

    Use as a context manager: the files are written in a scratch folder under the state
    folder (the disk dlt's packages are on, so dlt hard-links rather than copies them), which
    is removed on exit. ``add`` and ``flush`` yield the import marks for dlt; a file is deleted
    from the scratch folder as soon as dlt has taken it.
    """

    def __init__(
        self,
        name: str,
        declared: Sequence[pa.Field] = (),
        max_rows: int = CSV_FILE_ROWS,
    ) -> None:
        """
        Args:
            name: The table, for the file names.
            declared: Fields whose schema hint differs from the column written, e.g. a
                timestamp written as text for Postgres to parse, or a key that is never null:
                the hints then agree with the resource's own column hints.
            max_rows: Rows per file.
        """
        self.name = name
        self.declared = {field.name: field for field in declared}
        self.max_rows = max_rows
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._writer: pacsv.CSVWriter | None = None
        self._path: Path | None = None
        self._schema: pa.Schema | None = None
        self._rows = 0

    def __enter__(self) -> CsvLoadFiles:
        root = state_dir() / "tmp"
        root.mkdir(parents=True, exist_ok=True)
        self._scratch = tempfile.TemporaryDirectory(prefix=f"{self.name}-csv-", dir=root)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def add(self, table: pa.Table) -> Iterator[DataItemWithMeta]:
        """Append ``table``; yields the finished file's import mark when one is full or when
        ``table`` brings other columns than the file being written (a file has one header)."""
        table = self._with_dlt_columns(table)
        if self._writer is not None and not table.schema.equals(self._schema):
            yield from self.flush()
        if self._writer is None:
            self._open(table.schema)
        assert self._writer is not None
        self._writer.write_table(table)
        self._rows += table.num_rows
        if self._rows >= self.max_rows:
            yield from self.flush()

    def flush(self) -> Iterator[DataItemWithMeta]:
        """Finish the file being written (if any) and yield its import mark."""
        if self._writer is None or self._path is None or self._schema is None:
            return
        self._writer.close()
        path, schema, rows = self._path, self._schema, self._rows
        self._writer, self._path, self._schema, self._rows = None, None, None, 0
        hints = pa.schema([self.declared.get(field.name, field) for field in schema])
        try:
            yield dlt.mark.with_file_import(str(path), "csv", rows, hints=hints.empty_table())
        finally:
            path.unlink(missing_ok=True)

    def _open(self, schema: pa.Schema) -> None:
        if self._scratch is None:
            raise RuntimeError("CsvLoadFiles is used outside its `with` block")
        self._path = Path(self._scratch.name) / f"{self.name}.{uuid.uuid4().hex}.csv"
        self._schema = schema
        self._writer = pacsv.CSVWriter(self._path, schema)

    @staticmethod
    def _with_dlt_columns(table: pa.Table) -> pa.Table:
        naming = _naming_convention()
        table = table.rename_columns([naming.normalize_path(n) for n in table.column_names])
        return table.append_column(
            pa.field("_dlt_load_id", pa.string(), nullable=False),
            pa.repeat(pa.scalar(current_load_id()), table.num_rows),
        )


def _naming_convention() -> NamingConvention:
    """The naming convention of the schema being extracted (dlt's default outside a run)."""
    try:
        return dlt.current.source_schema().naming
    except CurrentSourceSchemaNotAvailable:
        return SnakeCaseNamingConvention()
