"""Marketing spend files (CSV or Parquet): read, validate row by row, reject what cannot load.

Reading is bounded (``bounds``): a CSV is streamed with every line at most ``MAX_LINE_BYTES``
and every field at most ``MAX_VALUE_CHARS`` (Python's csv limit, set for the read), a file
with more than ``MAX_COLUMNS`` columns is quarantined from its header (CSV) or footer
(Parquet, with ``MAX_ROW_GROUP_BYTES``) before any row is read.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.sources.files.bounds import (
    LINE_TOO_LONG,
    BoundExceededError,
    bounded_lines,
    check_columns,
    check_parquet,
)
from ingestion.sources.files.quarantine import FileReader, LoadItem, UnreadableFileError
from ingestion.sources.files.reading_marker import ReadingMarker
from ingestion.sources.files.settings import MAX_VALUE_CHARS, SPEND_KEY, SPEND_REQUIRED_COLUMNS
from ingestion.sources.files.storable import storable_text, value_problem
from ingestion.sources.validation import (
    METRIC_REJECTED,
    RejectedRecordError,
    count_metric,
    parse_date,
    parse_decimal,
    parse_int,
    rejected_record,
    require_text,
)

RawRecord = dict[str | None, Any]
"""A record as read: a CSV row's fields beyond its header are kept under the key None."""


def spend_records(path: Path) -> list[tuple[str, RawRecord]]:
    """The raw records of a marketing spend file (CSV or Parquet), all read before any load,
    each with where it is in the file (``line 3`` of a CSV, ``row 2`` of a Parquet file).

    Raises UnreadableFileError for a file that cannot be decoded or parsed, or whose header
    lacks one of the documented columns.
    """
    if path.suffix.lower() == ".parquet":
        try:
            parquet = pq.ParquetFile(path)
            check_parquet(parquet)
            rows = parquet.read().to_pylist()
        except (pa.ArrowException, OSError) as exc:
            raise UnreadableFileError(f"not a readable Parquet file: {exc}") from exc
        except BoundExceededError as exc:
            raise UnreadableFileError(str(exc)) from exc
        columns = set(rows[0]) if rows else set(SPEND_REQUIRED_COLUMNS)
        records = [(f"row {number}", row) for number, row in enumerate(rows, start=1)]
    else:
        records, columns = _csv_records(path)
    missing = [name for name in SPEND_REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise UnreadableFileError(
            f"wrong columns: missing {', '.join(missing)} (found {', '.join(sorted(columns))})"
        )
    return records


def _csv_records(path: Path) -> tuple[list[tuple[str, RawRecord]], set[str]]:
    """The records of a spend CSV and its header's column names, read within the bounds."""
    reader: csv.DictReader[str] | None = None
    try:
        with path.open("rb") as handle, _csv_field_limit(MAX_VALUE_CHARS):
            reader = csv.DictReader(_decoded_lines(bounded_lines(handle)))
            check_columns(len(reader.fieldnames or []))
            # the line a record ends on (a quoted value may span lines)
            records = [(f"line {reader.line_num}", record) for record in reader]
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"not UTF-8 text: {exc}") from exc
    except BoundExceededError as exc:
        where = f"line {reader.line_num + 1}: " if reader and reader.fieldnames else ""
        raise UnreadableFileError(f"{where}{exc}") from exc
    except csv.Error as exc:
        line = reader.line_num if reader else 1
        if "field larger than field limit" in str(exc):
            raise UnreadableFileError(
                f"line {line}: a field is longer than the limit of {MAX_VALUE_CHARS} "
                "characters (MAX_VALUE_CHARS)"
            ) from exc
        raise UnreadableFileError(f"not parseable as CSV: {exc}") from exc
    return records, {name.strip() for name in reader.fieldnames or []}


def _decoded_lines(lines: Iterator[tuple[bytes, bool]]) -> Iterator[str]:
    """UTF-8 lines (a leading byte-order mark dropped); BoundExceededError for a line longer
    than ``MAX_LINE_BYTES``."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    for line, whole in lines:
        if not whole:
            raise BoundExceededError(f"the line is {LINE_TOO_LONG}")
        yield decoder.decode(line)
    yield decoder.decode(b"", final=True)


@contextmanager
def _csv_field_limit(limit: int) -> Iterator[None]:
    """Python's csv field size limit set to ``limit`` for the block (it is process-wide)."""
    before = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(before)


def clean_spend(record: RawRecord, source_file: str) -> dict[str, Any]:
    """One marketing spend row ready to load, or RejectedRecordError saying why it cannot be
    (also when Postgres would refuse one of its values: see ``storable``)."""
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
    for name, value in row.items():
        if (problem := value_problem(value)) is not None:
            raise RejectedRecordError(f"{storable_text(name)}: {problem}")
    row["source_file"] = source_file
    return row


def spend_reader(marker: ReadingMarker) -> FileReader:
    """``spend_of`` with each file's parse named in the ``marker`` (``reading_marker``)."""
    return lambda path, source_file, resource: spend_of(path, source_file, resource, marker)


def spend_of(
    path: Path, source_file: str, resource: str, marker: ReadingMarker | None = None
) -> Iterator[LoadItem]:
    """The loadable rows and rejected records of one marketing spend file.

    A key (date, channel, campaign) a file repeats is loaded from its first row; the later
    rows with it are rejected, naming the line they repeat: a merge would otherwise keep one
    of them silently.
    """
    good: list[dict[str, Any]] = []
    first_of_key: dict[tuple[Any, ...], str] = {}
    if marker is None:
        records = spend_records(path)
    else:
        with marker.reading(source_file):
            records = spend_records(path)
    for where, record in records:
        try:
            row = clean_spend(record, source_file)
            key = tuple(row[name] for name in SPEND_KEY)
            if key in first_of_key:
                raise RejectedRecordError(
                    f"repeats the {', '.join(SPEND_KEY)} of {first_of_key[key]} "
                    f"({', '.join(map(str, key))}); the first is loaded"
                )
        except RejectedRecordError as exc:
            count_metric(METRIC_REJECTED)
            yield rejected_record(resource, f"{source_file} {where}: {exc}", record)
            continue
        first_of_key[key] = where
        good.append(row)
    if good:
        yield good
