"""Events on their way to dlt: read ahead in a thread, prepared for the csv load file."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.sources.files.event_ids import SeenEventIds
from ingestion.sources.files.helpers import EventChunk, event_chunks
from ingestion.sources.files.quarantine import LoadItem
from ingestion.sources.files.reading_marker import ReadingMarker
from ingestion.sources.files.settings import (
    ARRIVED_BY,
    ARRIVED_BY_FILE,
    DLT_ID_BYTES,
    EVENT_SUFFIXES,
    READ_AHEAD_BYTES,
)
from ingestion.sources.files.tracking import LandingFile
from ingestion.sources.load_files import CsvLoadFiles
from ingestion.sources.validation import METRIC_REJECTED, count_metric, rejected_record


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
    (``utc_timestamp_text``), a ``_dlt_id`` for every row, made in bulk, and ``_arrived_by``
    = ``file`` (the stream consumer writes ``stream`` into the same table)."""
    for table, rejects in event_chunks(path, source_file):
        if table.num_rows:
            table = table.set_column(
                table.schema.get_field_index("timestamp"),
                "timestamp",
                utc_timestamp_text(table["timestamp"]),
            )
            table = table.append_column("_dlt_id", dlt_ids(table.num_rows))
            table = table.append_column(
                ARRIVED_BY, pa.repeat(pa.scalar(ARRIVED_BY_FILE), table.num_rows)
            )
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

    One file is parsed at a time, each inside the ``marker`` (``reading_marker``): the next
    file's read-ahead starts once the current one is parsed, so a crash names the one file
    that was being parsed. Refused entries are never read ahead.
    """

    def __init__(self, files: list[LandingFile], marker: ReadingMarker) -> None:
        listed = [(file.path, file.name) for file in files if file.refused is None]
        self._next: dict[Path, tuple[Path, str]] = {
            path: listed[number + 1] for number, (path, _) in enumerate(listed[:-1])
        }
        self._marker = marker
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="events-read-ahead")
        self._ahead: dict[Path, Future[list[EventChunk]]] = {}
        if listed:
            self._start(*listed[0])

    def __enter__(self) -> EventsReadAhead:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def chunks(self, path: Path, source_file: str) -> Iterator[EventChunk]:
        """The chunks of ``path`` (read ahead or streamed now); then starts reading the next
        file ahead."""
        ahead = self._ahead.pop(path, None)
        if ahead is None:
            wait(self._ahead.values())  # a file read ahead but never asked for: one at a time
            with self._marker.reading(source_file):
                yield from loadable_event_chunks(path, source_file)
            self._start_next(path)
        else:
            try:
                chunks = ahead.result()
            finally:
                self._start_next(path)
            yield from chunks

    def _start_next(self, path: Path) -> None:
        following = self._next.get(path)
        if following is not None:
            self._start(*following)

    def _start(self, path: Path, source_file: str) -> None:
        if _worth_reading_ahead(path):
            self._ahead[path] = self._pool.submit(self._parsed_ahead, path, source_file)

    def _parsed_ahead(self, path: Path, source_file: str) -> list[EventChunk]:
        with self._marker.reading(source_file):
            return _all_event_chunks(path, source_file)


def _worth_reading_ahead(path: Path) -> bool:
    """A visible events file small enough to be held whole in memory."""
    if path.name.startswith(".") or path.suffix.lower() not in EVENT_SUFFIXES:
        return False
    try:
        return path.lstat().st_size <= READ_AHEAD_BYTES
    except OSError:
        return False


def _all_event_chunks(path: Path, source_file: str) -> list[EventChunk]:
    return list(loadable_event_chunks(path, source_file))


def utc_timestamp_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """UTC timestamps as ISO text with an explicit ``+00`` offset, for Postgres to parse.

    Arrow's CSV writer formats time-zone-aware timestamps slowly; the same values as naive UTC
    cast to text and suffixed cost a fraction of that (docs/benchmarks.md, "Ingestion: where
    the time goes", step 4). The column keeps its ``timestamp`` / ``timezone`` hint (see
    ``events``), so the table column stays ``timestamp with time zone`` and ``COPY`` parses
    the text into it exactly.
    """
    naive = column.cast(pa.timestamp("us"))
    return pc.binary_join_element_wise(naive.cast(pa.string()), pa.scalar("+00"), "")
