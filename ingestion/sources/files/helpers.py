"""Reading events files: Arrow readers, flattening and validation, the line-by-line fallback.

Events are read as Arrow tables (streaming JSON reader or Parquet batches), flattened and
validated with Arrow compute, so a million rows never pass through Python one by one. Only a
file the fast reader cannot parse (a truncated line, a wrong type) is re-read line by line,
so that its good lines load and each bad line becomes a rejected record.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
import pyarrow.parquet as pq

from ingestion.sources.files.quarantine import UnreadableFileError
from ingestion.sources.files.settings import (
    EVENT_BATCH_ROWS,
    EVENT_COLUMN_TYPES,
    EVENT_READ_SCHEMA,
    JSON_BLOCK_SIZE,
)
from ingestion.sources.validation import RejectedRecordError, parse_int, parse_timestamp

log = logging.getLogger(__name__)

Rejects = list[tuple[str, Any]]
"""(reason, raw payload) pairs."""
EventChunk = tuple[pa.Table, Rejects]
"""Validated events (flattened, typed) and the rejected records of one chunk of a file."""


def event_chunks(path: Path, source_file: str) -> Iterator[EventChunk]:
    """Validated event tables (flattened, typed) and the rejects of each chunk of a file.

    Raises UnreadableFileError, before yielding anything, for a file with no readable record.
    """
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        yield from _parquet_event_chunks(path, source_file)
    else:
        yield from _jsonl_event_chunks(path, source_file)


def _parquet_event_chunks(path: Path, source_file: str) -> Iterator[tuple[pa.Table, Rejects]]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise UnreadableFileError(f"not a readable Parquet file: {exc}") from exc
    for batch in parquet.iter_batches(batch_size=EVENT_BATCH_ROWS):
        yield normalise_events(pa.Table.from_batches([batch]), source_file)


def _batched(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """Record batches gathered into tables of at least ``rows`` rows (the last may be smaller).

    Fewer, larger tables keep dlt's per-item overhead low; memory stays bounded by ``rows``.
    """
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        if count >= rows:
            yield pa.Table.from_batches(pending)
            pending, count = [], 0
    if pending:
        yield pa.Table.from_batches(pending)


def _jsonl_event_chunks(path: Path, source_file: str) -> Iterator[tuple[pa.Table, Rejects]]:
    """Stream with Arrow's JSON reader; on a parse error, finish the file line by line."""
    rows_done = 0
    try:
        reader = pj.open_json(
            path,
            read_options=pj.ReadOptions(block_size=JSON_BLOCK_SIZE),
            parse_options=pj.ParseOptions(
                explicit_schema=EVENT_READ_SCHEMA, unexpected_field_behavior="infer"
            ),
        )
        for table in _batched(iter(reader), EVENT_BATCH_ROWS):
            yield normalise_events(table, source_file)
            rows_done += table.num_rows
        return
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        log.info("%s: fast JSON reader stopped (%s); reading line by line", source_file, exc)
    yield from _jsonl_slow_chunks(path, source_file, skip_records=rows_done)


def _jsonl_slow_chunks(
    path: Path, source_file: str, skip_records: int
) -> Iterator[tuple[pa.Table, Rejects]]:
    """Line-by-line reading of a faulty JSON-lines file, after ``skip_records`` loaded ones."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    lines = [line for line in text.splitlines() if line.strip()][skip_records:]
    objects: list[dict[str, Any]] = []
    rejects: Rejects = []
    for number, line in enumerate(lines, start=skip_records + 1):
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            rejects.append((f"{source_file} line {number}: not valid JSON ({exc.msg})", line))
            continue
        if not isinstance(value, dict):
            rejects.append((f"{source_file} line {number}: not a JSON object", line))
            continue
        try:
            objects.append(_conform_event(value))
        except RejectedRecordError as exc:
            rejects.append((f"{source_file} line {number}: {exc}", line))
    if not objects and skip_records == 0 and lines:
        raise UnreadableFileError(f"none of its {len(lines)} lines is a readable event")
    table, more_rejects = normalise_events(_events_table(objects), source_file)
    yield table, rejects + more_rejects


def _conform_event(value: dict[str, Any]) -> dict[str, Any]:
    """Coerce the documented fields of one parsed event to their read types, or reject it."""
    event = dict(value)
    for nested in ("user_identifiers", "product_information"):
        part = event.get(nested)
        if part is not None and not isinstance(part, dict):
            raise RejectedRecordError(f"{nested}: not an object")
        if isinstance(part, dict):
            event[nested] = {k: (None if v is None else str(v)) for k, v in part.items()}
    for text_field in ("event_id", "timestamp", "event_name"):
        if event.get(text_field) is not None and not isinstance(event[text_field], str):
            event[text_field] = str(event[text_field])
    if event.get("order_id") is not None:
        event["order_id"] = parse_int(event["order_id"], "order_id")
    return event


def _events_table(objects: list[dict[str, Any]]) -> pa.Table:
    """An Arrow table of conformed events: documented fields typed, new fields inferred."""
    known = [field.name for field in EVENT_READ_SCHEMA]
    table = pa.Table.from_pylist(
        [{name: obj.get(name) for name in known} for obj in objects], schema=EVENT_READ_SCHEMA
    )
    extras = sorted({key for obj in objects for key in obj} - set(known))
    for name in extras:
        table = table.append_column(name, _text_array([obj.get(name) for obj in objects]))
    return table


def flatten_columns(table: pa.Table) -> pa.Table:
    """Nested structs flattened to ``parent__child`` columns, every name lower-case."""
    while any(pa.types.is_struct(field.type) for field in table.schema):
        table = table.flatten()
    return table.rename_columns([name.replace(".", "__").lower() for name in table.column_names])


def parse_timestamps(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """ISO-8601 text to UTC timestamps; a value that cannot be parsed becomes null."""
    target = EVENT_COLUMN_TYPES["timestamp"]
    if pa.types.is_timestamp(column.type):
        return column.cast(target) if column.type.tz else pc.assume_timezone(column, "UTC")
    try:
        return pc.cast(column, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = []
        for value in column.to_pylist():
            try:
                values.append(parse_timestamp(value, "timestamp"))
            except RejectedRecordError:
                values.append(None)
        return pa.chunked_array([pa.array(values, type=target)])


def normalise_events(table: pa.Table, source_file: str) -> tuple[pa.Table, Rejects]:
    """Flatten, type and validate a table of events; split off the invalid rows.

    A row is invalid without an ``event_id``, an ``event_name`` or a parseable ``timestamp``.
    Known columns come first in the documented order, new fields after, then ``source_file``.
    """
    table = flatten_columns(table)
    for name, data_type in EVENT_COLUMN_TYPES.items():
        if name not in table.column_names and name != "source_file":
            table = table.append_column(name, pa.nulls(table.num_rows, type=data_type))
    raw = table
    timestamps = parse_timestamps(table["timestamp"])
    invalid = pc.or_kleene(
        pc.or_kleene(_blank(table["event_id"]), _blank(table["event_name"])),
        pc.is_null(timestamps),
    )
    typed = []
    for name, data_type in EVENT_COLUMN_TYPES.items():
        if name == "source_file":
            continue
        column = timestamps if name == "timestamp" else table[name]
        try:
            typed.append(column.cast(data_type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise UnreadableFileError(f"column {name} has type {column.type}: {exc}") from exc
    extras = [n for n in table.column_names if n not in EVENT_COLUMN_TYPES]
    names = [n for n in EVENT_COLUMN_TYPES if n != "source_file"] + extras
    typed_table = pa.table(typed + [_as_text(table[n]) for n in extras], names=names)
    typed_table = typed_table.append_column(
        "source_file", pa.repeat(pa.scalar(source_file), typed_table.num_rows)
    )
    rejects: Rejects = []
    if pc.any(invalid).as_py():
        for row in raw.filter(invalid).to_pylist():
            rejects.append((f"{source_file}: {_event_problem(row)}", row))
        typed_table = typed_table.filter(pc.invert(invalid))
    return typed_table, rejects


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A field outside the documented shape, as text (lists and maps as JSON text).

    New event fields always become text columns: the column type then never depends on
    which file happened to bring the field first, and no later value can clash with it
    (a number column meeting ``"high"`` would fail every load). Staging models cast them.
    """
    if pa.types.is_string(column.type):
        return column
    try:
        return column.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.chunked_array([_text_array(column.to_pylist())])


def _text_array(values: list[Any]) -> pa.Array:
    """Values as text: strings as they are, anything else as JSON (``5``, ``true``, ``[1, 2]``)."""
    return pa.array(
        [v if v is None or isinstance(v, str) else json.dumps(v, default=str) for v in values],
        type=pa.string(),
    )


def _blank(column: pa.ChunkedArray) -> pa.ChunkedArray:
    text = column.cast(pa.string())
    return pc.or_kleene(pc.is_null(text), pc.equal(pc.utf8_trim_whitespace(text), ""))


def _event_problem(row: dict[str, Any]) -> str:
    """The reason an event row was rejected, in words."""
    if not row.get("event_id"):
        return "event_id: missing"
    if not row.get("event_name"):
        return "event_name: missing"
    value = row.get("timestamp")
    return f"timestamp: missing or unparseable ({value!r})"
