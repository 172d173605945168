"""Reading events files: Arrow's streaming readers, and the line-by-line fallback.

Events are read as Arrow tables (streaming JSON reader or Parquet batches) and validated with
Arrow compute (``event_rows``), so a million rows never pass through Python one by one. A
JSON-lines file the fast reader cannot take as it is (a truncated line, a wrong type, a byte
that is not UTF-8, a row to reject) is read line by line from there on, so that its good lines
load and each bad line becomes a rejected record naming its line.

The fast reader takes only the documented shape (``unexpected_field_behavior="error"``): an
unknown key sends the file to the line-by-line reader, which keeps every key outside the shape
in the one ``extra_properties`` column, so an event never adds a column. The line-by-line
reader keeps the bounds of ``bounds`` (line length, nesting depth, keys, text length) before
and after parsing each line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.json as pj
import pyarrow.parquet as pq

from ingestion.sources.files.bounds import (
    LINE_TOO_LONG,
    BoundExceededError,
    bounded_lines,
    check_parquet,
)
from ingestion.sources.files.event_records import EventChunk, event_of_line, validated_events
from ingestion.sources.files.event_rows import (
    NotUtf8Error,
    RowsToRejectError,
    normalise_events,
    payload_row,
)
from ingestion.sources.files.quarantine import UnreadableFileError
from ingestion.sources.files.settings import (
    EVENT_BATCH_ROWS,
    EVENT_READ_SCHEMA,
    JSON_BLOCK_SIZE,
)
from ingestion.sources.files.storable import storable_text
from ingestion.sources.validation import RejectedRecordError

log = logging.getLogger(__name__)


def event_chunks(path: Path, source_file: str) -> Iterator[EventChunk]:
    """Validated event tables (flattened, typed) and the rejects of each chunk of a file.

    Raises UnreadableFileError, before yielding anything, for a file with no readable record.
    """
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        yield from _parquet_event_chunks(path, source_file)
    else:
        yield from _jsonl_event_chunks(path, source_file)


def _parquet_event_chunks(path: Path, source_file: str) -> Iterator[EventChunk]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise UnreadableFileError(f"not a readable Parquet file: {exc}") from exc
    try:
        check_parquet(parquet)
    except BoundExceededError as exc:
        raise UnreadableFileError(str(exc)) from exc
    rows_done = 0
    for batch in parquet.iter_batches(batch_size=EVENT_BATCH_ROWS):
        table = pa.Table.from_batches([batch])

        def origin(
            row: int, problem: str, first: int = rows_done, rows: pa.Table = table
        ) -> tuple[str, Any]:
            return f"{source_file} row {first + row + 1}: {problem}", payload_row(rows, row)

        yield normalise_events(table, source_file, origin)
        rows_done += table.num_rows


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


def _jsonl_event_chunks(path: Path, source_file: str) -> Iterator[EventChunk]:
    """Stream with Arrow's JSON reader; from the first chunk it cannot take as it is (a parse
    error, text that is not UTF-8, a row to reject), finish the file line by line."""
    rows_done = 0
    try:
        reader = pj.open_json(
            path,
            read_options=pj.ReadOptions(block_size=JSON_BLOCK_SIZE),
            parse_options=pj.ParseOptions(
                explicit_schema=EVENT_READ_SCHEMA, unexpected_field_behavior="error"
            ),
        )
        for table in _batched(iter(reader), EVENT_BATCH_ROWS):
            yield normalise_events(table, source_file)
            rows_done += table.num_rows
        return
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        log.info("%s: fast JSON reader stopped (%s); reading line by line", source_file, exc)
    except (NotUtf8Error, RowsToRejectError):
        log.info("%s: rows to reject; reading line by line", source_file)
    yield from _jsonl_slow_chunks(path, source_file, skip_records=rows_done)


def _jsonl_slow_chunks(path: Path, source_file: str, skip_records: int) -> Iterator[EventChunk]:
    """Line-by-line reading of a faulty JSON-lines file, after ``skip_records`` loaded ones.

    Lines end at ``\\n`` only (a trailing ``\\r`` is dropped): U+2028 and the other
    separators ``str.splitlines`` knows may sit inside a JSON string. Each line is decoded
    on its own, so a byte that is not UTF-8 costs that line only. Streamed in chunks of
    ``EVENT_BATCH_ROWS`` events: memory stays flat whatever the file size; a line longer than
    ``MAX_LINE_BYTES`` is rejected with its prefix, never held whole.
    """
    objects: list[dict[str, Any]] = []
    lines: list[tuple[int, str]] = []
    rejects: list[tuple[int, tuple[str, Any]]] = []
    records = loaded = 0
    with path.open("rb") as handle:
        for number, (raw, whole) in enumerate(bounded_lines(handle), start=1):
            if not raw.strip():
                continue
            records += 1
            if records <= skip_records:
                continue
            line = raw.rstrip(b"\n").rstrip(b"\r")
            try:
                if not whole:
                    raise RejectedRecordError(f"the line is {LINE_TOO_LONG}")
                objects.append(event_of_line(line))
                lines.append((number, storable_text(line.decode("utf-8"))))
            except RejectedRecordError as exc:
                text = storable_text(line.decode("utf-8", "backslashreplace"))
                rejects.append((number, (f"{source_file} line {number}: {exc}", text)))
            if len(objects) >= EVENT_BATCH_ROWS:
                loaded += len(objects)
                yield validated_events(objects, lines, rejects, source_file)
                objects, lines, rejects = [], [], []
    if not objects and not loaded and skip_records == 0 and records:
        raise UnreadableFileError(f"none of its {records} lines is a readable event")
    yield validated_events(objects, lines, rejects, source_file)
