"""The events benchmark's workload and yardsticks: the synthetic clickstream files, the
result of a timed run, and the methods ours is measured against (raw psycopg COPY from the
files and from memory, pandas ``to_sql``)."""

from __future__ import annotations

import io
import json
import statistics
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pj
import sqlalchemy as sa

from ingestion.database.connection import connect
from ingestion.settings import ConnectionSettings
from ingestion.sources.files.helpers import event_chunks
from ingestion.sources.ops.helpers import psycopg2_url

EVENTS_PER_FILE = 100_000
RATE_ROWS = 1_000_000
RATE_REPEATS = 5
"""Timed runs of ours and of COPY from the files, alternating; the median run counts."""
MEMORY_ROWS = (1_000_000, 5_000_000)
PANDAS_CHUNK = 10_000

EVENT_NAMES = np.array(["view", "click", "add_to_cart", "purchase"])
PLATFORMS = np.array(["web", "app"])


@dataclass(frozen=True)
class RateResult:
    """Rows per second of one loading method, over one or more timed runs."""

    method: str
    rows: int
    runs: tuple[float, ...]

    @property
    def seconds(self) -> float:
        """The median run (the middle one of an odd number of runs)."""
        return statistics.median(self.runs)

    @property
    def rows_per_second(self) -> float:
        """Throughput of the median run."""
        return self.rows / self.seconds if self.seconds else 0.0

    def merged(self, other: RateResult) -> RateResult:
        """This method's runs together with ``other``'s (the same method, measured again)."""
        if (other.method, other.rows) != (self.method, self.rows):
            raise ValueError(f"cannot merge runs of {other.method!r} into {self.method!r}")
        return RateResult(self.method, self.rows, self.runs + other.runs)


def write_event_files(folder: Path, rows: int, seed: int = 7) -> None:
    """Synthetic events in ``clickstream/events_<day>_1.jsonl`` files of 100k lines each."""
    target = folder / "clickstream"
    target.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for start in range(0, rows, EVENTS_PER_FILE):
        count = min(EVENTS_PER_FILE, rows - start)
        ids = np.arange(start, start + count)
        names = EVENT_NAMES[rng.integers(0, 4, count)]
        platforms = PLATFORMS[rng.integers(0, 2, count)]
        customers = rng.integers(1, 100_000, count)
        products = rng.integers(1, 50_000, count)
        seconds = rng.integers(0, 365 * 86_400, count)
        stamps = (np.datetime64("2025-01-01T00:00:00") + seconds.astype("timedelta64[s]")).astype(
            str
        )
        lines = [
            json.dumps(
                {
                    "event_id": f"{uuid.UUID(int=int(i) + 1)}",
                    "timestamp": f"{stamp}Z",
                    "event_name": str(name),
                    "user_identifiers": {"platform": str(platform), "id": str(customer)},
                    "product_information": {
                        "name": f"Product {product}",
                        "SKU": f"SKU-{product:06d}",
                    },
                    "order_id": int(i) if name == "purchase" else None,
                }
            )
            for i, stamp, name, platform, customer, product in zip(
                ids, stamps, names, platforms, customers, products, strict=True
            )
        ]
        day = 20250101 + start // EVENTS_PER_FILE
        (target / f"events_{day}_1.jsonl").write_text("\n".join(lines) + "\n")


def event_files(folder: Path) -> list[Path]:
    """The JSON-lines files of the events under a landing folder, in name order."""
    return sorted((folder / "clickstream").glob("*.jsonl"))


def flattened_events(folder: Path) -> pa.Table:
    """The rows our pipeline would load, flattened and typed (for the COPY and pandas runs)."""
    tables = []
    for path in event_files(folder):
        for table, _ in event_chunks(path, path.relative_to(folder).as_posix()):
            tables.append(table)
    return pa.concat_tables(tables)


COPY_TABLE_COLUMNS = (
    "event_id text, timestamp timestamptz, event_name text, user_identifiers__platform text,"
    " user_identifiers__id text, product_information__name text,"
    " product_information__sku text, order_id bigint, source_file text"
)


def _copy_csv(settings: ConnectionSettings, table_name: str, buffers: Iterator[io.BytesIO]) -> None:
    """``CREATE TABLE`` then one ``COPY ... FROM STDIN`` per CSV buffer, in one transaction."""
    conn = connect(settings)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(f"create table {table_name} ({COPY_TABLE_COLUMNS})")
            for buffer in buffers:
                buffer.seek(0)
                cursor.copy_expert(f"copy {table_name} from stdin with (format csv)", buffer)
    finally:
        conn.close()


def _csv_buffer(table: pa.Table) -> io.BytesIO:
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False))
    return buffer


def copy_events_from_files(settings: ConnectionSettings, folder: Path) -> RateResult:
    """The ceiling for loading files: per file, Arrow reads and flattens the JSON lines, writes
    CSV to a buffer, ``COPY ... FROM STDIN``; timed from the files to the committed rows.

    The timestamp stays ISO text in the CSV: Postgres parses it into ``timestamptz``.
    """
    rows = 0

    def buffers() -> Iterator[io.BytesIO]:
        nonlocal rows
        for path in event_files(folder):
            table = pj.read_json(path).flatten()
            rows += table.num_rows
            table = table.append_column(
                "source_file", pa.repeat(pa.scalar(path.relative_to(folder).as_posix()), len(table))
            )
            yield _csv_buffer(table)

    started = time.perf_counter()
    _copy_csv(settings, "bench_copy_files", buffers())
    seconds = time.perf_counter() - started
    return RateResult("raw psycopg COPY from the files (ceiling)", rows, (seconds,))


def copy_events_from_memory(settings: ConnectionSettings, table: pa.Table) -> RateResult:
    """For reference: rows already flattened and written as CSV in memory; only the ``COPY``
    is timed."""
    buffer = _csv_buffer(table)
    started = time.perf_counter()
    _copy_csv(settings, "bench_copy_memory", iter([buffer]))
    seconds = time.perf_counter() - started
    return RateResult("raw psycopg COPY from memory (reference)", table.num_rows, (seconds,))


def pandas_events(settings: ConnectionSettings, folder: Path) -> RateResult:
    """What most tutorials do, timed from the files to the committed rows: per file
    ``pd.read_json(lines=True)``, ``pd.json_normalize`` of the nested fields, then
    ``DataFrame.to_sql(chunksize=10_000)``."""
    engine = sa.create_engine(psycopg2_url(settings.warehouse_url))
    rows = 0
    try:
        started = time.perf_counter()
        for path in event_files(folder):
            frame = pd.read_json(path, lines=True, dtype={"order_id": "Int64"})
            frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
            for nested in ("user_identifiers", "product_information"):
                flat = pd.json_normalize(frame.pop(nested).tolist())
                frame[[f"{nested}__{name.lower()}" for name in flat.columns]] = flat.to_numpy()
            frame["source_file"] = path.relative_to(folder).as_posix()
            frame.to_sql(
                "bench_pandas", engine, index=False, chunksize=PANDAS_CHUNK, if_exists="append"
            )
            rows += len(frame)
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    return RateResult(f"pandas read_json + to_sql (chunksize={PANDAS_CHUNK:,})", rows, (seconds,))
