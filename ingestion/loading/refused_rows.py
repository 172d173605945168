"""Rows the warehouse refuses are set aside, so one bad value never freezes a source.

dlt loads a table's rows from one load file in one statement (``COPY`` for csv files, one
``INSERT ... VALUES`` for insert-values files). When Postgres refuses that statement because
of the data (a value out of range, text it cannot encode, a NULL into a NOT NULL column, a
value of the wrong type: SQLSTATE classes 22 and 23), dlt would retry the same file on every
later run and every table of the source would stay blocked behind it.

The load jobs here catch that refusal and load the file again, in halves, inside one
transaction with a savepoint per attempt: a half that loads stays loaded, a half that is
refused is split again, down to the single rows the database refuses. Those rows go to the
dataset's ``rejected_records`` table with the database's reason, the raw table's name and the
row itself; the rest of the file, and the rest of the load package, load as usual. A file
with k refused rows among n costs about ``2 k log2(n)`` extra statements, only on that path.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg2
from dlt.common.utils import uniq_id
from dlt.destinations.impl.postgres.postgres import PostgresCsvCopyJob
from dlt.destinations.insert_job_client import InsertValuesLoadJob
from psycopg2 import sql

from ingestion.database.connection import autocommit, one_row
from ingestion.settings import ConnectionSettings
from ingestion.sources.validation import (
    MAX_REASON_CHARS,
    REJECTED_RECORDS_TABLE,
    bounded_text,
    to_payload_text,
)

log = logging.getLogger(__name__)

REFUSED_REASON_PREFIX = "refused by the warehouse"
"""Every reason written here starts with this, so runs can count these rows."""
REFUSED_SQLSTATE_CLASSES = ("22", "23")
"""Data exceptions and integrity constraint violations: the row, not the server, is wrong."""


def refusal_of(exc: BaseException) -> psycopg2.Error | None:
    """The Postgres error in ``exc``'s chain when it refuses the data itself, else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, psycopg2.Error):
            code = current.pgcode or ""
            return current if code[:2] in REFUSED_SQLSTATE_CLASSES else None
        nested = next((a for a in current.args if isinstance(a, BaseException)), None)
        current = current.__cause__ or current.__context__ or nested
    return None


def refusal_reason(error: psycopg2.Error) -> str:
    """One line: the database's message and the column, never its DETAIL (which quotes the
    whole row, personal data included)."""
    diag = error.diag
    message = (diag.message_primary or str(error).splitlines()[0]).strip()
    # a COPY names the column only in its context: "COPY t, line 1, column c: ..."
    in_context = re.search(r"\bcolumn (\w+)", diag.context or "")
    name = diag.column_name or (in_context.group(1) if in_context else None)
    column = f" (column {name})" if name else ""
    return f"{REFUSED_REASON_PREFIX} [{error.pgcode}]: {message}{column}"


def csv_records(lines: Iterator[bytes]) -> Iterator[bytes]:
    """The records of a csv file, each with its line ending, as written (quotes kept).

    A quoted field may hold line breaks: lines are joined while a record's quotes are open
    (an odd count of ``"``; an escaped quote counts twice and changes nothing).
    """
    pending: list[bytes] = []
    quotes = 0
    for line in lines:
        pending.append(line)
        quotes += line.count(b'"')
        if quotes % 2 == 0:
            yield b"".join(pending)
            pending, quotes = [], 0
    if pending:
        yield b"".join(pending)


def split_until_accepted(
    cursor: Any,
    rows: Sequence[Any],
    load_rows: Callable[[Any, Sequence[Any]], None],
) -> list[tuple[Any, str]]:
    """Load ``rows`` with ``load_rows``, halving refused parts down to single rows.

    Runs inside the caller's transaction, a savepoint per attempt. Returns the refused rows
    with their reasons; every other row is loaded when this returns.
    """
    refused: list[tuple[Any, str]] = []
    parts: list[Sequence[Any]] = [rows]
    while parts:
        part = parts.pop()
        cursor.execute("savepoint shopflow_refused_rows")
        try:
            load_rows(cursor, part)
        except psycopg2.Error as exc:
            cursor.execute("rollback to savepoint shopflow_refused_rows")
            if refusal_of(exc) is None:
                raise
            if len(part) == 1:
                refused.append((part[0], refusal_reason(exc)))
            else:
                middle = len(part) // 2
                parts.extend((part[middle:], part[:middle]))
            continue
        cursor.execute("release savepoint shopflow_refused_rows")
    return refused


class SetsAsideRefusedRows:
    """What both load jobs below add to dlt's: run as dlt does; when Postgres refuses the
    data, load the file again with the job's ``load_accepted_rows`` (which returns the refused
    rows as payload text and reason) and write those rows to ``rejected_records``, all in one
    transaction: the file is either fully accounted for or not loaded at all.

    ``rejected_dataset`` holds ``rejected_records``: the raw dataset, also when the job loads
    a merge's rows into dlt's staging dataset.
    """

    _file_path: str
    _job_client: Any
    load_table_name: str
    load_accepted_rows: Callable[[Any], list[tuple[str, str]]]

    def __init__(self, file_path: str, rejected_dataset: str) -> None:
        super().__init__(file_path)  # type: ignore[call-arg]  # dlt's job classes take it
        self.rejected_dataset = rejected_dataset

    def run(self) -> None:
        try:
            super().run()  # type: ignore[misc]  # dlt's job
        except Exception as exc:
            refusal = refusal_of(exc)
            if refusal is None:
                raise
            self.set_aside(refusal)

    def set_aside(self, first_error: psycopg2.Error) -> None:
        client = self._job_client.sql_client
        load_id = Path(self._file_path).parent.parent.name
        with client.begin_transaction():
            cursor = client.native_connection.cursor()
            refused = self.load_accepted_rows(cursor)
            insert = sql.SQL(
                "insert into {}.{} (resource, reason, raw_payload, load_id, rejected_at,"
                " _dlt_load_id, _dlt_id) values (%s, %s, %s, %s, now(), %s, %s)"
            ).format(sql.Identifier(self.rejected_dataset), sql.Identifier(REJECTED_RECORDS_TABLE))
            for payload, reason in refused:
                cursor.execute(
                    insert,
                    (
                        self.load_table_name,
                        bounded_text(reason, MAX_REASON_CHARS),
                        to_payload_text(payload),  # bounded like every rejected payload
                        load_id,
                        load_id,
                        uniq_id(),
                    ),
                )
        log.warning(
            "%s: the warehouse refused %d row(s) of %s (first: %s); set aside in %s.%s",
            self.load_table_name,
            len(refused),
            Path(self._file_path).name,
            refusal_reason(first_error),
            self.rejected_dataset,
            REJECTED_RECORDS_TABLE,
        )


class SalvagingCsvCopyJob(SetsAsideRefusedRows, PostgresCsvCopyJob):
    """dlt's csv ``COPY`` job; a refused file is loaded again in halves (see module)."""

    def load_accepted_rows(self, cursor: Any) -> list[tuple[str, str]]:
        with open(self._file_path, "rb") as file:
            header = file.readline()
            records = list(csv_records(iter(file)))
        client = self._job_client.sql_client
        names = [name.strip('"') for name in header.decode("utf-8").strip().split(",")]
        columns = self._job_client.schema.get_table_columns(self.load_table_name)
        nullable = [n for n in names if columns.get(n, {}).get("nullable", True)]
        copy = sql.SQL("copy {} ({}) from stdin with (format csv, header true, null ''{})").format(
            sql.SQL(client.make_qualified_table_name(self.load_table_name)),
            sql.SQL(", ").join(sql.Identifier(n) for n in names),
            sql.SQL(", force_null ({})").format(
                sql.SQL(", ").join(sql.Identifier(n) for n in nullable)
            )
            if nullable
            else sql.SQL(""),
        )
        statement = copy.as_string(cursor)

        def load_rows(cursor: Any, rows: Sequence[bytes]) -> None:
            cursor.copy_expert(statement, io.BytesIO(header + b"".join(rows)))

        refused = split_until_accepted(cursor, records, load_rows)
        return [(csv_payload(names, record), reason) for record, reason in refused]


class SalvagingInsertValuesJob(SetsAsideRefusedRows, InsertValuesLoadJob):
    """dlt's ``INSERT ... VALUES`` job; a refused file is loaded again in halves."""

    def load_accepted_rows(self, cursor: Any) -> list[tuple[str, str]]:
        client = self._job_client.sql_client
        with open(self._file_path, encoding="utf-8") as file:
            header = file.readline().rstrip("\n")
            file.readline()  # "VALUES"
            # one row a line (dlt escapes line breaks inside values), ending in "," or ";"
            rows = [line.rstrip("\n")[:-1] for line in file if line.strip()]
        insert = header.format(client.make_qualified_table_name(self.load_table_name))

        def load_rows(cursor: Any, part: Sequence[str]) -> None:
            cursor.execute(f"{insert}\nVALUES\n" + ",\n".join(part) + ";")

        refused = split_until_accepted(cursor, rows, load_rows)
        columns = header[header.index("(") + 1 : header.rindex(")")]
        return [
            (json.dumps({"columns": columns, "values": row}, ensure_ascii=False), reason)
            for row, reason in refused
        ]


def csv_payload(names: list[str], record: bytes) -> str:
    """One csv record as a JSON object of its header's names: values as text, an unquoted
    empty field (csv's null) as null."""
    values = [_csv_value(raw) for raw in _raw_fields(record.decode("utf-8", errors="replace"))]
    return json.dumps(dict(zip(names, values, strict=False)), ensure_ascii=False)


def _csv_value(raw: str) -> str | None:
    if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
        return raw[1:-1].replace('""', '"')
    return raw or None


def _raw_fields(text: str) -> list[str]:
    """A csv record's fields as written, quotes kept."""
    fields: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text.rstrip("\r\n"):
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
    fields.append("".join(current))
    return fields


def refused_row_count(
    settings: ConnectionSettings, dataset: str, table: str, load_ids: Sequence[str]
) -> int:
    """How many rows of ``table`` the warehouse refused in the given loads."""
    if not load_ids:
        return 0
    statement = sql.SQL(
        "select count(*) from {}.{} where resource = %s and load_id = any(%s) and reason like %s"
    ).format(sql.Identifier(dataset), sql.Identifier(REJECTED_RECORDS_TABLE))
    with autocommit(settings, settings.database) as cursor:
        cursor.execute(statement, (table, list(load_ids), REFUSED_REASON_PREFIX + "%"))
        return int(one_row(cursor)[0])
