"""Plumbing of the files source: readers, event flattening, validation and quarantine.

Events are read as Arrow tables (streaming JSON reader or Parquet batches), flattened and
validated with Arrow compute, so a million rows never pass through Python one by one. Only a
file the fast reader cannot parse (a truncated line, a wrong type) is re-read line by line,
so that its good lines load and each bad line becomes a rejected record.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
import pyarrow.parquet as pq
from dlt.common.pendulum import pendulum
from dlt.extract.items import DataItemWithMeta
from dlt.sources.filesystem import FileItemDict

from ingestion.sources.files.settings import (
    DLT_ID_BYTES,
    EVENT_BATCH_ROWS,
    EVENT_COLUMN_TYPES,
    EVENT_ID_HASH_KEYS,
    EVENT_READ_SCHEMA,
    EVENT_SUFFIXES,
    JSON_BLOCK_SIZE,
    READ_AHEAD_BYTES,
    SPEND_REQUIRED_COLUMNS,
)
from ingestion.sources.load_files import CsvLoadFiles
from ingestion.sources.validation import (
    METRIC_FILES_QUARANTINED,
    METRIC_FILES_READ,
    METRIC_REJECTED,
    QUARANTINED_FILES_COLUMNS,
    QUARANTINED_FILES_TABLE,
    RejectedRecordError,
    count_metric,
    current_load_id,
    parse_date,
    parse_decimal,
    parse_int,
    parse_timestamp,
    rejected_record,
    require_text,
    routed_row,
)

log = logging.getLogger(__name__)

Rejects = list[tuple[str, Any]]
"""(reason, raw payload) pairs."""
EventChunk = tuple[pa.Table, Rejects]
"""Validated events (flattened, typed) and the rejected records of one chunk of a file."""
LoadItem = pa.Table | list[dict[str, Any]] | DataItemWithMeta
FileReader = Callable[[Path, str, str], Iterator[LoadItem]]
"""Reads one file (path, relative name, resource name) into loadable items."""


class UnreadableFileError(Exception):
    """A file that cannot be parsed at all; the message is the reason it is quarantined."""


# --- quarantine ---------------------------------------------------------------------------


def quarantine_file(path: Path, relative_name: str, quarantine_dir: Path, reason: str) -> Path:
    """Move a file into the quarantine folder (keeping its sub-folder) beside a ``.reason`` file.

    An earlier file of the same name already there is kept: the new one gets a time suffix.
    """
    target = quarantine_dir / relative_name
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        target = target.with_name(f"{target.stem}.{stamp}{target.suffix}")
    shutil.move(str(path), target)
    target.with_name(target.name + ".reason").write_text(reason + "\n", encoding="utf-8")
    log.warning("quarantined %s: %s", relative_name, reason)
    return target


def quarantined_row(relative_name: str, reason: str) -> dict[str, Any]:
    """The ``quarantined_files`` row for one file."""
    return {
        "file_name": relative_name,
        "reason": reason,
        "load_id": current_load_id(),
        "quarantined_at": pendulum.now("UTC"),
    }


# --- events -------------------------------------------------------------------------------


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


# --- marketing spend ----------------------------------------------------------------------


def spend_records(path: Path) -> list[dict[str, Any]]:
    """The raw records of a marketing spend file (CSV or Parquet), all read before any load.

    Raises UnreadableFileError for a file that cannot be decoded or parsed, or whose header
    lacks one of the documented columns.
    """
    if path.suffix.lower() == ".parquet":
        try:
            records = pq.read_table(path).to_pylist()
        except (pa.ArrowException, OSError) as exc:
            raise UnreadableFileError(f"not a readable Parquet file: {exc}") from exc
        columns = set(records[0]) if records else set(SPEND_REQUIRED_COLUMNS)
    else:
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UnreadableFileError(f"not UTF-8 text: {exc}") from exc
        try:
            reader = csv.DictReader(io.StringIO(text))
            records = list(reader)
        except csv.Error as exc:
            raise UnreadableFileError(f"not parseable as CSV: {exc}") from exc
        columns = {name.strip() for name in reader.fieldnames or []}
    missing = [name for name in SPEND_REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise UnreadableFileError(
            f"wrong columns: missing {', '.join(missing)} (found {', '.join(sorted(columns))})"
        )
    return records


def clean_spend(record: dict[str, Any], source_file: str) -> dict[str, Any]:
    """One marketing spend row ready to load, or RejectedRecordError saying why it cannot be."""
    if None in record:
        raise RejectedRecordError(f"more fields than the header has ({record[None]!r})")
    row = {str(k).strip(): (v.strip() if isinstance(v, str) else v) for k, v in record.items()}
    row["date"] = parse_date(row.get("date"), "date")
    row["channel"] = require_text(row.get("channel"), "channel")
    row["campaign"] = require_text(row.get("campaign"), "campaign")
    row["spend"] = parse_decimal(row.get("spend"), "spend", minimum=parse_decimal(0, "zero"))
    row["currency"] = require_text(row.get("currency"), "currency")
    row["impressions"] = parse_int(row.get("impressions"), "impressions", minimum=0)
    row["clicks"] = parse_int(row.get("clicks"), "clicks", minimum=0)
    row["source_file"] = source_file
    return row


# --- one landing file ---------------------------------------------------------------------


def read_landing_file(
    item: FileItemDict,
    resource: str,
    suffixes: frozenset[str],
    quarantine_dir: Path,
    reader: FileReader,
) -> Iterator[LoadItem]:
    """Read one listed file with ``reader``; quarantine it if it cannot be parsed at all."""
    path = Path(item.local_file_path)
    name = item["relative_path"]
    if path.name.startswith("."):
        log.debug("skipping hidden (partially written) file %s", name)
        return
    count_metric(METRIC_FILES_READ)
    try:
        if path.suffix.lower() not in suffixes:
            raise UnreadableFileError(
                f"unsupported file type {path.suffix!r} (expected {', '.join(sorted(suffixes))})"
            )
        yield from reader(path, name, resource)
    except UnreadableFileError as exc:
        quarantine_file(path, name, quarantine_dir, str(exc))
        count_metric(METRIC_FILES_QUARANTINED)
        yield routed_row(
            quarantined_row(name, str(exc)), QUARANTINED_FILES_TABLE, QUARANTINED_FILES_COLUMNS
        )


class SeenEventIds:
    """The event ids already handed to dlt in this run, to drop repeats before the load.

    The ``insert-only`` merge never inserts a key the table already has, but rows of one load
    that share a key would all be inserted: a run must therefore carry each ``event_id`` once
    (the same file delivered twice under two names arrives in one run). Each id is kept as a
    128-bit pair in sorted numpy runs that are merged as they grow: 16 bytes per event, no
    Python object per row.

    Ids are compared as text. A canonical lower-case UUID (``8-4-4-4-12`` hex digits, as
    the trackers send) is decoded exactly into its 128 bits straight from the Arrow buffers
    (``uuid_bits``), which is several times faster than hashing Python strings and cannot
    collide. Any other id (upper case, braces, free text, null) is kept as two keyed 64-bit
    SipHashes (a false match among 10^9 ids has a chance below 10^-20) in a separate store:
    the two kinds of id never share a text, so they never need comparing with each other.
    """

    def __init__(self) -> None:
        self._uuids = _PairSet()
        self._hashed = _PairSet()

    def first_seen(self, event_ids: pa.ChunkedArray | pa.Array) -> np.ndarray:
        """Mask of the rows whose id is new to this run (first occurrence); remembers them."""
        ids = event_ids.combine_chunks() if isinstance(event_ids, pa.ChunkedArray) else event_ids
        if ids.type != pa.string():
            ids = ids.cast(pa.string())
        canonical, high, low = uuid_bits(ids)
        if canonical.all():
            return self._uuids.first_seen(*_spread(high, low))
        mask = np.empty(len(ids), dtype=bool)
        mask[canonical] = self._uuids.first_seen(*_spread(high, low))
        others = ~canonical
        values = ids.filter(pa.array(others)).to_numpy(zero_copy_only=False)
        hashes = (
            pd.util.hash_array(values, hash_key=key, categorize=False) for key in EVENT_ID_HASH_KEYS
        )
        mask[others] = self._hashed.first_seen(*hashes)
        return mask


_UUID_LENGTH = 36
_UUID_DASHES = np.array([8, 13, 18, 23])
_UUID_HEX = np.setdiff1d(np.arange(_UUID_LENGTH), _UUID_DASHES)
_NIBBLE = np.full(256, 0xFF, dtype=np.uint8)
_NIBBLE[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)
"""ASCII byte -> hex digit value; 0xFF for anything but ``0-9a-f`` (upper case is not canonical)."""


def uuid_bits(ids: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which ids of a string array are canonical lower-case UUIDs, and their exact bits.

    Returns ``(canonical, high, low)``: a mask over ``ids``, and the high and low 64 bits of
    each canonical id, in order. Read with numpy from the array's offsets and data buffers;
    no Python string is made.
    """
    count = len(ids)
    empty = np.zeros(0, dtype=np.uint64)
    _, offsets_buffer, data_buffer = ids.buffers()
    if count == 0 or data_buffer is None:
        return np.zeros(count, dtype=bool), empty, empty
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[ids.offset : ids.offset + count + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    start = int(offsets[0])
    if int(offsets[-1]) - start == _UUID_LENGTH * count and ids.null_count == 0:
        # every id 36 bytes long (the usual case): the bytes are a (count, 36) matrix as is
        candidate = np.ones(count, dtype=bool)
        text = data[start : start + _UUID_LENGTH * count].reshape(count, _UUID_LENGTH)
    else:
        candidate = np.diff(offsets) == _UUID_LENGTH
        if ids.null_count:
            candidate &= ids.is_valid().to_numpy(zero_copy_only=False)
        text = data[offsets[:-1][candidate, None] + np.arange(_UUID_LENGTH)]
    nibbles = _NIBBLE[text[:, _UUID_HEX]]
    good = (nibbles != 0xFF).all(axis=1) & (text[:, _UUID_DASHES] == ord("-")).all(axis=1)
    if not good.all():
        candidate[np.flatnonzero(candidate)[~good]] = False
        nibbles = nibbles[good]
    octets = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]
    halves = np.ascontiguousarray(octets).view(">u8").astype(np.uint64)
    return candidate, halves[:, 0].copy(), halves[:, 1].copy()


def _spread(high: np.ndarray, low: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(high ^ mix(low), low)``: a one-to-one remapping of exact 128-bit ids.

    ``_PairSet`` looks ids up by their first half; UUIDs made from a counter share it (all
    zero), so it is spread with the ``splitmix64`` finaliser of the second half. The map is
    reversible, so distinct ids stay distinct.
    """
    with np.errstate(over="ignore"):
        mixed = low ^ (low >> np.uint64(30))
        mixed *= np.uint64(0xBF58476D1CE4E5B9)
        mixed ^= mixed >> np.uint64(27)
        mixed *= np.uint64(0x94D049BB133111EB)
        mixed ^= mixed >> np.uint64(31)
    return high ^ mixed, low


class _PairSet:
    """A growing set of 128-bit ``(high, low)`` pairs in sorted numpy runs."""

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []

    def first_seen(self, high: np.ndarray, low: np.ndarray) -> np.ndarray:
        """Mask of the pairs new to the set (first occurrence in the batch); remembers them."""
        order = np.lexsort((low, high))
        high, low = high[order], low[order]
        new = np.ones(len(order), dtype=bool)
        new[1:] = (high[1:] != high[:-1]) | (low[1:] != low[:-1])
        for run_high, run_low in self._runs:
            new &= ~_contains(run_high, run_low, high, low)
        self._remember(high[new], low[new])
        mask = np.empty(len(order), dtype=bool)
        mask[order] = new
        return mask

    def _remember(self, high: np.ndarray, low: np.ndarray) -> None:
        self._runs.append((high, low))
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
            # one array at a time, each input released as soon as it is copied: the merge of
            # the largest runs is the run's memory peak (4 arrays of 8 bytes an id, not 7)
            (high_a, low_a), (high_b, low_b) = self._runs.pop(), self._runs.pop()
            high = np.concatenate([high_b, high_a])
            del high_a, high_b
            low = np.concatenate([low_b, low_a])
            del low_a, low_b
            # two sorted runs: the stable sort (timsort) merges them in linear time; ids are
            # looked up by ``high`` then compared on ``low``, so ties need no order
            order = np.argsort(high, kind="stable")
            high = high[order]
            low = low[order]
            del order
            self._runs.append((high, low))


def _contains(
    run_high: np.ndarray, run_low: np.ndarray, high: np.ndarray, low: np.ndarray
) -> np.ndarray:
    """Whether each (high, low) pair is in the sorted run (vectorised; exact)."""
    first = np.searchsorted(run_high, high, side="left")
    last = np.searchsorted(run_high, high, side="right")
    found = np.zeros(len(high), dtype=bool)
    single = last - first == 1
    found[single] = run_low[first[single]] == low[single]
    for row in np.flatnonzero(last - first > 1):
        found[row] = bool((run_low[first[row] : last[row]] == low[row]).any())
    return found


def dlt_ids(count: int) -> pa.Array:
    """``count`` random row ids for ``_dlt_id``, made in bulk rather than one by one.

    Base64 of 12 random bytes each (16 characters, 96 bits; dlt's own are 80 bits): 12 is a
    multiple of 3, so encoding all the bytes at once gives the ids back to back.
    """
    width = DLT_ID_BYTES // 3 * 4
    data = base64.b64encode(os.urandom(count * DLT_ID_BYTES))
    offsets = np.arange(0, count * width + 1, width, dtype=np.int32)
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    return pa.Array.from_buffers(pa.string(), count, buffers)


def events_of(
    chunks: Iterator[EventChunk], resource: str, seen: SeenEventIds, load_files: CsvLoadFiles
) -> Iterator[LoadItem]:
    """The loadable events and rejected records of one events file, from its ``chunks``
    (``loadable_event_chunks``).

    Events whose ``event_id`` this run has already carried are dropped (``seen``); the rest
    reach dlt in csv load files (``load_files``).
    """
    for table, rejects in chunks:
        count_metric(METRIC_REJECTED, len(rejects))
        for reason, payload in rejects:
            yield rejected_record(resource, reason, payload)
        if table.num_rows:
            table = table.filter(seen.first_seen(table["event_id"]))
        if table.num_rows:
            yield from load_files.add(table)


def loadable_event_chunks(path: Path, source_file: str) -> Iterator[EventChunk]:
    """``event_chunks`` ready for the csv load file: ``timestamp`` as UTC text
    (``utc_timestamp_text``) and a ``_dlt_id`` for every row, made in bulk."""
    for table, rejects in event_chunks(path, source_file):
        if table.num_rows:
            table = table.set_column(
                table.schema.get_field_index("timestamp"),
                "timestamp",
                utc_timestamp_text(table["timestamp"]),
            )
            table = table.append_column("_dlt_id", dlt_ids(table.num_rows))
        yield table, rejects


class EventsReadAhead:
    """Parses the next events file of a page in a background thread while one is loaded.

    Arrow's JSON parser and compute kernels release the GIL, so on two cores the next file's
    parsing, validation and preparation (``loadable_event_chunks``) overlap this file's
    dedup, csv writing and dlt's bookkeeping. Only files up to ``READ_AHEAD_BYTES`` are
    read ahead, whole; a larger file is streamed in the foreground as before, so memory stays
    bounded whatever the file size. What a file yields, and the error that quarantines it,
    are the same either way: ``chunks`` re-raises a read-ahead's ``UnreadableFileError``
    where the file is read.
    """

    def __init__(self, files: list[FileItemDict]) -> None:
        listed = [(Path(item.local_file_path), item["relative_path"]) for item in files]
        self._next: dict[Path, tuple[Path, str]] = {
            path: listed[number + 1] for number, (path, _) in enumerate(listed[:-1])
        }
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="events-read-ahead")
        self._ahead: dict[Path, Future[list[EventChunk]]] = {}

    def __enter__(self) -> EventsReadAhead:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def chunks(self, path: Path, source_file: str) -> Iterator[EventChunk]:
        """The chunks of ``path`` (read ahead or streamed now); starts reading the next file."""
        ahead = self._ahead.pop(path, None)
        following = self._next.get(path)
        if following is not None and _worth_reading_ahead(following[0]):
            self._ahead[following[0]] = self._pool.submit(_all_event_chunks, *following)
        if ahead is None:
            yield from loadable_event_chunks(path, source_file)
        else:
            yield from ahead.result()


def _worth_reading_ahead(path: Path) -> bool:
    """A visible events file small enough to be held whole in memory."""
    if path.name.startswith(".") or path.suffix.lower() not in EVENT_SUFFIXES:
        return False
    try:
        return path.stat().st_size <= READ_AHEAD_BYTES
    except OSError:
        return False


def _all_event_chunks(path: Path, source_file: str) -> list[EventChunk]:
    return list(loadable_event_chunks(path, source_file))


def utc_timestamp_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """UTC timestamps as ISO text with an explicit ``+00`` offset, for Postgres to parse.

    Arrow's CSV writer formats time-zone-aware timestamps slowly (about 1.3 s per million
    rows here); the same values as naive UTC cast to text and suffixed take about 0.2 s. The
    column keeps its ``timestamp`` / ``timezone`` hint (see ``events``), so the table column
    stays ``timestamp with time zone`` and ``COPY`` parses the text into it exactly.
    """
    naive = column.cast(pa.timestamp("us"))
    return pc.binary_join_element_wise(naive.cast(pa.string()), pa.scalar("+00"), "")


def spend_of(path: Path, source_file: str, resource: str) -> Iterator[LoadItem]:
    """The loadable rows and rejected records of one marketing spend file."""
    records = spend_records(path)
    good: list[dict[str, Any]] = []
    for line, record in enumerate(records, start=2):
        try:
            good.append(clean_spend(record, source_file))
        except RejectedRecordError as exc:
            count_metric(METRIC_REJECTED)
            yield rejected_record(resource, f"{source_file} line {line}: {exc}", record)
    if good:
        yield good
