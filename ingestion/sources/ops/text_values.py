"""Rows read as text (from the log, or from the initial copy) turned into typed Arrow tables.

The log sends every value in its text form; the initial copy reads the same text form
(``::text`` in a session on UTC with ISO dates), so both become the same Arrow types, which
are the types the cursor reader gives (every integer is 64-bit, ``numeric(p,s)``
keeps its precision, ``timestamptz`` is microseconds in UTC): the raw tables look alike
whichever reader filled them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

SESSION_SETUP = "set time zone 'UTC'; set datestyle = 'ISO, YMD'; set intervalstyle = 'iso_8601'"
"""How a session must write values for ``arrow_type`` to read them back."""

_NUMERIC = re.compile(r"numeric\((\d+),(\d+)\)")
_FIXED: dict[str, pa.DataType] = {
    "smallint": pa.int64(),
    "integer": pa.int64(),
    "bigint": pa.int64(),
    "real": pa.float32(),
    "double precision": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp with time zone": pa.timestamp("us", tz="UTC"),
    "timestamp without time zone": pa.timestamp("us"),
}
UNBOUNDED_NUMERIC = pa.decimal128(38, 9)
"""``numeric`` without a precision: dlt's default decimal."""


def arrow_type(format_type: str) -> pa.DataType:
    """The Arrow type of a Postgres column (its ``format_type`` name); text for the rest."""
    if format_type.startswith("timestamp"):
        format_type = re.sub(r"\(\d+\)", "", format_type)  # the precision of its seconds
    if format_type in _FIXED:
        return _FIXED[format_type]
    match = _NUMERIC.fullmatch(format_type.replace(" ", ""))
    if match:
        precision, scale = int(match.group(1)), int(match.group(2))
        return pa.decimal128(precision, scale) if precision <= 38 else pa.string()
    if format_type == "numeric":
        return UNBOUNDED_NUMERIC
    return pa.string()


ENDLESS: dict[str, dict[str, str]] = {
    "timestamp[us, tz=UTC]": {
        "infinity": "9999-12-31 23:59:59.999999+00",
        "-infinity": "0001-01-01 00:00:00+00",
    },
    "timestamp[us]": {"infinity": "9999-12-31 23:59:59.999999", "-infinity": "0001-01-01"},
    "date32[day]": {"infinity": "9999-12-31", "-infinity": "0001-01-01"},
}
"""Postgres's ``infinity`` and ``-infinity`` dates and timestamps as the latest and earliest
values Arrow holds: what the cursor reader loads for them, so both readers agree."""

REFUSED_CAST = (pa.ArrowInvalid, pa.ArrowNotImplementedError)


def typed_column(values: Sequence[str | None], kind: pa.DataType) -> pa.Array:
    """Text values (None for NULL) as an array of ``kind``; ``pa.ArrowInvalid`` when one
    cannot be (``typed_table`` sets such rows aside)."""
    endless = ENDLESS.get(str(kind))
    if endless:
        values = [endless.get(v, v) if v is not None else None for v in values]
    text = pa.array(values, type=pa.string())
    if kind == pa.string():
        return text
    if kind == pa.bool_():
        return pc.equal(text, "t")
    return text.cast(kind)


@dataclass(frozen=True)
class SourceColumn:
    """A source column: its name, ``format_type`` and whether it accepts NULL."""

    name: str
    type: str
    nullable: bool

    def field(self) -> pa.Field:
        return pa.field(self.name, arrow_type(self.type), nullable=self.nullable)


COLUMNS_QUERY = (
    "select attname, format_type(atttypid, atttypmod), not attnotnull from pg_attribute"
    " where attrelid = %s and attnum > 0 and not attisdropped order by attnum"
)
"""A table's columns (``SourceColumn``) by its object id (a number or a regclass)."""


def typed_table(
    columns: Sequence[SourceColumn], values: Sequence[Sequence[str | None]]
) -> tuple[pa.Table, dict[int, str]]:
    """Column-wise text values (``values[i]`` holds column ``i``) as a typed table, and the
    rows left out because a value cannot take its column's type (row index -> the reason):
    the caller sets those aside as rejected records, the others load."""
    arrays: list[pa.Array] = []
    refused: dict[int, str] = {}
    for column, texts in zip(columns, values, strict=True):
        kind = arrow_type(column.type)
        try:
            arrays.append(typed_column(texts, kind))
            continue
        except REFUSED_CAST:
            kept: list[str | None] = []
            for row, text in enumerate(texts):
                try:
                    typed_column([text], kind)
                    kept.append(text)
                except REFUSED_CAST as exc:
                    reason = f"{column.name} = {text!r} does not fit {column.type}: {exc}"
                    refused.setdefault(row, reason)
                    kept.append(None)
            arrays.append(typed_column(kept, kind))
    fields = [pa.field(c.name, arrow_type(c.type)) for c in columns]
    table = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
    if refused:
        table = table.filter(pa.array([row not in refused for row in range(table.num_rows)]))
    return table.cast(pa.schema([c.field() for c in columns])), refused
