"""Events as Arrow tables: flattened, typed and validated with Arrow compute.

A row is rejected when it cannot be used (no ``event_id`` or ``event_name``, a timestamp that
does not parse, a text longer than ``MAX_VALUE_CHARS``) or when Postgres would refuse it (a
timestamp outside 0001-01-01 .. 9999-12-31 UTC, text holding a NUL character). Text that is
not UTF-8 is found here too; the JSON reader then re-reads the file line by line, a Parquet
file is quarantined. The checks cost a few vectorised passes: a scan of each text column's
bytes finds the rare table that needs a closer look.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.sources.files.bounds import value_too_long
from ingestion.sources.files.quarantine import UnreadableFileError
from ingestion.sources.files.settings import (
    EVENT_COLUMN_TYPES,
    EXTRA_PROPERTIES,
    MAX_VALUE_CHARS,
)
from ingestion.sources.files.storable import (
    EARLIEST_TIMESTAMP,
    LATEST_TIMESTAMP,
    TIMESTAMP_RANGE,
    text_problem,
)
from ingestion.sources.validation import RejectedRecordError, parse_timestamp

Rejects = list[tuple[str, Any]]
"""(reason, raw payload) pairs."""
RowOrigin = Callable[[int, str], tuple[str, Any]]
"""(row index in the table, problem) -> (reason naming the file and line or row, raw payload)."""

_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
_INT64 = np.iinfo(np.int64)
NUL_PROBLEM = text_problem("\x00")


class RowsToRejectError(Exception):
    """A table holds rows to reject, and the caller asked to be told rather than get them."""


class NotUtf8Error(UnreadableFileError):
    """A text column holds bytes that are not UTF-8; the message names the column."""


def flatten_columns(table: pa.Table) -> pa.Table:
    """Nested structs flattened to ``parent__child`` columns, every name lower-case."""
    while any(pa.types.is_struct(field.type) for field in table.schema):
        table = table.flatten()
    return table.rename_columns([name.replace(".", "__").lower() for name in table.column_names])


def _always(problem: str) -> Callable[[int], str]:
    """A check's problem that does not depend on the row."""
    return lambda _: problem


def parse_timestamps(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """ISO-8601 text (or Arrow timestamps) to UTC timestamps in microseconds; a value that
    cannot be parsed, or lies outside 0001-01-01 .. 9999-12-31 UTC, becomes null."""
    target = EVENT_COLUMN_TYPES["timestamp"]
    if pa.types.is_timestamp(column.type):
        per_second = _PER_SECOND[column.type.unit]
        kept = _within(column, per_second)
        micros = kept.cast(pa.timestamp("us", tz=column.type.tz), safe=False)
        return micros.cast(target) if column.type.tz else pc.assume_timezone(micros, "UTC")
    try:
        parsed = pc.cast(column, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values: list[dt.datetime | None] = []
        for value in column.to_pylist():
            try:
                values.append(parse_timestamp(value, "timestamp"))
            except (RejectedRecordError, OverflowError):  # overflow: a UTC year before 1
                values.append(None)
        parsed = pa.chunked_array([pa.array(values, type=target)])
    return _within(parsed, _PER_SECOND["us"])


def _within(column: pa.ChunkedArray, per_second: int) -> pa.ChunkedArray:
    """``column`` (timestamps of ``per_second`` units) with values outside the range nulled."""
    earliest = max(int(EARLIEST_TIMESTAMP.timestamp()) * per_second, int(_INT64.min))
    latest = min((int(LATEST_TIMESTAMP.timestamp()) + 1) * per_second - 1, int(_INT64.max))
    epoch = column.cast(pa.int64())
    inside = pc.and_kleene(pc.greater_equal(epoch, earliest), pc.less_equal(epoch, latest))
    if pc.all(inside).as_py() is not False:
        return column
    return pc.if_else(inside, column, pa.scalar(None, type=column.type))


def normalise_events(
    table: pa.Table, source_file: str, origin: RowOrigin | None = None
) -> tuple[pa.Table, Rejects]:
    """Flatten, type and validate a table of events; split off the rows to reject.

    Known columns come first in the documented order, then ``extra_properties`` (every other
    field, packed into one JSON object: ``pack_extras``), then ``source_file``. With
    ``origin`` the rejected rows come back with reasons; without it,
    RowsToRejectError is raised instead (the JSON reader then reads the file line by line, so
    each reason names its line). NotUtf8Error when a text column is not UTF-8.
    """
    table = pack_extras(flatten_columns(table))
    for name, data_type in EVENT_COLUMN_TYPES.items():
        if name not in table.column_names and name != "source_file":
            table = table.append_column(name, pa.nulls(table.num_rows, type=data_type))
    raw = table
    timestamps = parse_timestamps(table["timestamp"])
    checks: list[tuple[pa.ChunkedArray, Callable[[int], str]]] = [
        (_blank(table["event_id"]), lambda _: "event_id: missing"),
        (_blank(table["event_name"]), lambda _: "event_name: missing"),
        (
            pc.is_null(timestamps),
            lambda row: (
                "timestamp: missing, unparseable or outside "
                f"{TIMESTAMP_RANGE} ({_text_value(raw['timestamp'], row)!r})"
            ),
        ),
    ]
    typed = []
    for name, data_type in EVENT_COLUMN_TYPES.items():
        if name == "source_file":
            continue
        column = timestamps if name == "timestamp" else table[name]
        try:
            typed.append(column.cast(data_type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise UnreadableFileError(f"column {name} has type {column.type}: {exc}") from exc
    names = [n for n in EVENT_COLUMN_TYPES if n != "source_file"]
    typed_table = pa.table(typed, names=names)
    for name in typed_table.column_names:
        if name != "timestamp" and pa.types.is_string(typed_table.schema.field(name).type):
            nul = _nul_mask(typed_table[name], name)
            if nul is not None:
                checks.append((nul, _always(f"{name}: {NUL_PROBLEM}")))
            checks.extend(_too_long(typed_table[name], name))
    invalid = checks[0][0]
    for mask, _ in checks[1:]:
        invalid = pc.or_kleene(invalid, mask)
    typed_table = typed_table.append_column(
        "source_file", pa.repeat(pa.scalar(source_file), typed_table.num_rows)
    )
    if not pc.any(invalid).as_py():
        return typed_table, []
    if origin is None:
        raise RowsToRejectError()
    rejects: Rejects = []
    flags = [np.asarray(mask) for mask, _ in checks]
    for row in np.flatnonzero(np.asarray(invalid)):
        problem = next(
            say(int(row)) for flag, (_, say) in zip(flags, checks, strict=True) if flag[row]
        )
        rejects.append(origin(int(row), problem))
    return typed_table.filter(pc.invert(invalid)), rejects


def _nul_mask(column: pa.ChunkedArray, name: str) -> pa.ChunkedArray | None:
    """The rows of a text column holding a NUL character; None when no row does.

    A scan of the bytes (numpy) decides; only a column with a zero byte or a byte above
    ASCII is looked at more closely (NUL search, UTF-8 validation). NotUtf8Error when the
    column is not UTF-8.
    """
    has_zero = False
    for chunk in column.chunks:
        data = chunk.buffers()[2]
        if data is None or data.size == 0:
            continue
        values = np.frombuffer(data, dtype=np.uint8)
        if values.max() >= 0x80:
            try:
                chunk.validate(full=True)
            except pa.ArrowInvalid as exc:
                raise NotUtf8Error(f"column {name} holds text that is not UTF-8") from exc
        has_zero = has_zero or values.min() == 0
    return pc.fill_null(pc.match_substring(column, "\x00"), False) if has_zero else None


def payload_row(table: pa.Table, row: int) -> dict[str, Any]:
    """One row of an Arrow table as a dict for a rejected record's payload; a value Python
    cannot hold (a timestamp in year 0) is given as Arrow's text of it."""
    return {name: _value(table[name], row) for name in table.column_names}


def _value(column: pa.ChunkedArray, row: int) -> Any:
    try:
        return column[row].as_py()
    except (OverflowError, ValueError):
        return _text_value(column, row)


def _text_value(column: pa.ChunkedArray, row: int) -> Any:
    """A value as Arrow writes it as text (works for timestamps Python cannot hold)."""
    try:
        return column[row : row + 1].cast(pa.string())[0].as_py()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return str(column[row])


def _too_long(
    column: pa.ChunkedArray, name: str
) -> list[tuple[pa.ChunkedArray, Callable[[int], str]]]:
    """The check for texts longer than ``MAX_VALUE_CHARS`` (none when no value has that many
    bytes: lengths in bytes come from the offsets, characters are counted only then)."""
    if (pc.max(pc.binary_length(column)).as_py() or 0) <= MAX_VALUE_CHARS:
        return []
    lengths = pc.utf8_length(column)
    mask = pc.fill_null(pc.greater(lengths, MAX_VALUE_CHARS), False)
    return [(mask, lambda row: f"{name}: {value_too_long(lengths[row].as_py())}")]


def pack_extras(table: pa.Table) -> pa.Table:
    """A flattened events table with every column outside the documented shape packed into
    ``extra_properties``: one JSON object per row (a field of ``user_identifiers`` or
    ``product_information`` under its parent's key), null when a row has none.

    An event therefore never adds a column: the raw table keeps one shape whatever the
    files bring (2,000 new keys once made dlt refuse the table with ``TooManyColumns``).
    """
    extras = [name for name in table.column_names if name not in EVENT_COLUMN_TYPES]
    if not extras:
        return table
    if EXTRA_PROPERTIES in table.column_names:  # a Parquet file's own column of that name
        extras.append(EXTRA_PROPERTIES)
    packed: list[dict[str, Any] | None] = []
    for row in table.select(extras).to_pylist():
        found: dict[str, Any] = {}
        for name, value in row.items():
            if value is None:
                continue
            parent, _, child = name.partition("__")
            if child and f"{parent}__" in _NESTED_PREFIXES:
                found.setdefault(parent, {})[child] = value
            else:
                found[name] = value
        packed.append(found or None)
    return table.drop_columns(extras).append_column(EXTRA_PROPERTIES, json_objects_array(packed))


_NESTED_PREFIXES = frozenset({"user_identifiers__", "product_information__"})


def json_objects_array(values: list[dict[str, Any] | None]) -> pa.Array:
    """Objects as JSON text (every character outside ASCII escaped, so Postgres text always
    holds it; values JSON cannot hold as their text), None as null."""
    return pa.array(
        [None if v is None else json.dumps(v, default=str, sort_keys=True) for v in values],
        type=pa.string(),
    )


def _blank(column: pa.ChunkedArray) -> pa.ChunkedArray:
    text = column.cast(pa.string())
    return pc.or_kleene(pc.is_null(text), pc.equal(pc.utf8_trim_whitespace(text), ""))
