"""Whether two engines built the same marts: row counts and order-independent checksums.

``spark.mart_checksums`` hashes Postgres' own text of a row, which only Postgres can
reproduce. Here each engine's rows come back as Python values (psycopg2 for Postgres, pyspark
for Spark), every value is printed one engine-neutral way (``normalised``) and the checksum is
the sum, modulo 2**64, of a 64-bit hash of each row: independent of row order, changed by any
changed, added or missing row. A second sum per column says which columns differ when the
rows do.

Normal forms, chosen so that equal values print equal on both engines and nothing else does:
numbers exactly (a decimal without trailing zeros: Postgres ``numeric(12,2)`` 10.50 and Spark
``decimal(12,2)`` 10.50 agree, 10.50 and 10.51 never do); floating point to 12 significant
digits (the engines sum in different orders); timestamps in UTC to the microsecond (a naive
one is taken as UTC: the Spark sessions run with ``spark.sql.session.timeZone=UTC``); dates
ISO; booleans as true/false; null as its own token.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import psycopg2.extensions
from psycopg2 import sql

from ingestion.database.connection import autocommit
from ingestion.settings import ConnectionSettings
from ingestion.spark.mart_checksums import MARTS_SCHEMA, checksum_columns, relations

MODULUS = 2**64
NULL = "\x00null"
SEPARATOR = "\x1f"
FLOAT_DIGITS = 12
EXCLUDED_COLUMNS: tuple[str, ...] = ("dbt_built_at",)
"""When dbt built the row: differs between any two builds by design."""
FETCH_ROWS = 10_000


def normalised(value: object) -> str:
    """One engine-neutral text for a value (see the module's docstring)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return _decimal_text(Decimal(format(value, f".{FLOAT_DIGITS}g")))
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return moment.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _decimal_text(value: Decimal) -> str:
    """Exact, without trailing zeros or exponent: 10.50 -> "10.5", 100 -> "100", 0.00 -> "0"."""
    return "0" if value.is_zero() else format(value.normalize(), "f")


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


@dataclass
class EngineChecksum:
    """Row count, whole-row checksum and one checksum per column of one relation."""

    columns: tuple[str, ...]
    rows: int = 0
    content: int = 0
    by_column: dict[str, int] = field(default_factory=dict)

    def add(self, row: Sequence[object]) -> None:
        texts = [normalised(value) for value in row]
        self.rows += 1
        self.content = (self.content + _hash(SEPARATOR.join(texts))) % MODULUS
        for name, text in zip(self.columns, texts, strict=True):
            self.by_column[name] = (self.by_column.get(name, 0) + _hash(text)) % MODULUS


def checksum(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> EngineChecksum:
    """The checksum of ``rows``, whose values come in the order of ``columns``."""
    result = EngineChecksum(tuple(columns))
    for row in rows:
        result.add(row)
    return result


def differences(
    left: Mapping[str, EngineChecksum], right: Mapping[str, EngineChecksum]
) -> list[str]:
    """One sentence per relation that differs, naming what differs; [] when all agree."""
    found: list[str] = []
    for name in sorted(left.keys() | right.keys()):
        a, b = left.get(name), right.get(name)
        if a is None or b is None:
            found.append(f"{name}: only on the {'right' if a is None else 'left'}")
        elif set(a.columns) != set(b.columns):
            only = sorted(set(a.columns) ^ set(b.columns))
            found.append(f"{name}: the column sets differ ({', '.join(only)})")
        elif a.rows != b.rows:
            found.append(f"{name}: {a.rows} rows against {b.rows}")
        elif a.content != b.content:
            columns = sorted(c for c in a.columns if a.by_column.get(c) != b.by_column.get(c))
            where = ", ".join(columns) or "no single column (rows combine them differently)"
            found.append(f"{name}: same {a.rows} rows, values differ in {where}")
    return found


def postgres_checksums(
    settings: ConnectionSettings,
    schema: str = MARTS_SCHEMA,
    exclude: tuple[str, ...] = EXCLUDED_COLUMNS,
) -> dict[str, EngineChecksum]:
    """The checksum of every table and view in ``schema`` of the Postgres warehouse."""
    with autocommit(settings, settings.database) as cursor:
        names = relations(cursor, schema)
        # Python's order, not the database collation's: the same on every engine
        listed = {name: sorted(checksum_columns(cursor, schema, name, exclude)) for name in names}
    results: dict[str, EngineChecksum] = {}
    with autocommit(settings, settings.database) as cursor:
        for name, columns in listed.items():
            query = sql.SQL("select {} from {}.{}").format(
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.Identifier(schema),
                sql.Identifier(name),
            )
            cursor.execute(query)
            results[name] = checksum(columns, _batches(cursor))
    return results


def _batches(cursor: psycopg2.extensions.cursor) -> Iterator[Sequence[object]]:
    while rows := cursor.fetchmany(FETCH_ROWS):
        yield from rows


def spark_checksums(
    session: Any, schema: str = MARTS_SCHEMA, exclude: tuple[str, ...] = EXCLUDED_COLUMNS
) -> dict[str, EngineChecksum]:
    """The checksum of every table and view in ``schema`` of a Spark catalog (a pyspark
    ``SparkSession``, typed loosely: pyspark is the optional `spark` extra). Rows stream to
    the driver one partition at a time."""
    results: dict[str, EngineChecksum] = {}
    for table in session.catalog.listTables(schema):
        frame = session.table(f"{schema}.{table.name}")
        columns = sorted(name for name in frame.columns if name not in exclude)
        rows = (tuple(row) for row in frame.select(*columns).toLocalIterator())
        results[table.name] = checksum(columns, rows)
    return results
