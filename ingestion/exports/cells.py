"""Spreadsheet-safe csv cells: text a spreadsheet would evaluate is neutralised, as OWASP
recommends for CSV injection.

A spreadsheet opening a csv file runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as
a formula (``=HYPERLINK(...)`` becomes a live link, ``=cmd|' /C calc'!A0`` asks to start a
program), and tab or carriage return at the start can hide such a cell behind whitespace.
A text cell starting with one of them gets a single quote ``'`` in front, so it is shown as
the text it is; the rest of the cell is unchanged and Postgres' COPY still quotes the cell
as csv requires. The full-width forms (U+FF1D, U+FF0B, U+FF0D, U+FF20) count too: some spreadsheet
set-ups (East Asian input correction) read them as their ASCII forms, and a real name or title
never starts with them, so neutralising them costs nothing.

Only text is neutralised. A column Postgres types as a number, date, time, boolean or uuid
is written as Postgres prints it: ``-12.50`` in a money column is a negative number and stays
one (a formula can only arrive as text). Every other type is read as text and checked.

Finance reads these files too, so two more cell rules hold for every csv export, whatever
``--raw-cells`` says: a money column (named ``..._usd`` or ``..._amount``, the marts' naming
rule) is rounded to cents, half away from zero (Postgres' ``round``); a ratio (``..._rate``,
``..._share``, ``..._ratio``) keeps the marts' six decimals. A timestamp is written in ISO 8601
to the second with its zone: the warehouse keeps UTC, so ``2025-06-01T10:15:00Z``. Parquet
keeps every value as stored, typed.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg2.extensions
from psycopg2 import sql

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
"""First characters that make a spreadsheet evaluate a cell (OWASP), and full-width forms."""
NEUTRALISING_PREFIX = "'"
MONEY_SUFFIXES = ("_usd", "_amount")
RATIO_SUFFIXES = ("_rate", "_share", "_ratio")
NUMBER_OIDS = frozenset({700, 701, 1700})  # real, double precision, numeric
TIMESTAMP_OID = 1114
TIMESTAMPTZ_OID = 1184
ISO_SECOND_UTC = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'

TYPED_OIDS = frozenset(
    {
        16,  # boolean
        20,  # bigint
        21,  # smallint
        23,  # integer
        700,  # real
        701,  # double precision
        1082,  # date
        1083,  # time
        1114,  # timestamp
        1184,  # timestamptz
        1266,  # timetz
        1700,  # numeric
        2950,  # uuid
    }
)
"""Postgres types whose text form a spreadsheet reads as the value it is, never a formula."""


def neutralised(value: str) -> str:
    """``value`` as a spreadsheet-safe cell: ``'`` in front when it starts with a trigger."""
    return NEUTRALISING_PREFIX + value if value.startswith(FORMULA_TRIGGERS) else value


def is_text_column(type_code: int) -> bool:
    """Whether a result column is checked (anything not typed as a number, date or boolean)."""
    return type_code not in TYPED_OIDS


def is_money_column(column: psycopg2.extensions.Column) -> bool:
    """A number named as money (``..._usd``, ``..._amount``): written to the cent."""
    return column.type_code in NUMBER_OIDS and column.name.endswith(MONEY_SUFFIXES)


def is_unclassified_number(column: psycopg2.extensions.Column) -> bool:
    """A number named neither as money nor as a ratio: a question must not return one (its
    cents would be a guess); tests/exports holds every question to it."""
    return column.type_code in NUMBER_OIDS and not column.name.endswith(
        MONEY_SUFFIXES + RATIO_SUFFIXES
    )


def result_columns(
    cursor: psycopg2.extensions.cursor, query: str
) -> Sequence[psycopg2.extensions.Column]:
    """The columns ``query`` returns (names and types), without reading a row."""
    cursor.execute(sql.SQL("select * from ({}) as answer limit 0").format(sql.SQL(query)))
    if cursor.description is None:  # a statement that returns no rows, not a question
        raise ValueError(f"the export query returns no rows to write: {query}")
    return cursor.description


def _unique_names(columns: Sequence[psycopg2.extensions.Column]) -> None:
    names = [column.name for column in columns]
    if len(set(names)) != len(names):
        raise ValueError(f"the export query names a column twice: {', '.join(names)}")


def _starts_with_trigger(column: psycopg2.extensions.Column) -> sql.Composed:
    return sql.SQL("left({}::text, 1) = any({}::text[])").format(
        sql.Identifier("answer", column.name), sql.Literal(list(FORMULA_TRIGGERS))
    )


def csv_cell(column: psycopg2.extensions.Column, neutralise_formulas: bool) -> sql.Composed:
    """The projection of one result column as its csv cell (module docstring: money to the
    cent, timestamps ISO 8601 in UTC, text neutralised when asked)."""
    name = sql.Identifier("answer", column.name)
    alias = sql.Identifier(column.name)
    if is_money_column(column):
        cell = sql.SQL("round(cast({} as numeric), 2)").format(name)
    elif column.type_code == TIMESTAMP_OID:  # the warehouse keeps UTC
        cell = sql.SQL("to_char({}, {})").format(name, sql.Literal(ISO_SECOND_UTC))
    elif column.type_code == TIMESTAMPTZ_OID:
        cell = sql.SQL("to_char({} at time zone 'UTC', {})").format(
            name, sql.Literal(ISO_SECOND_UTC)
        )
    elif neutralise_formulas and is_text_column(column.type_code):
        cell = sql.SQL(
            "case when {test} then {prefix} || {name}::text else {name}::text end"
        ).format(
            test=_starts_with_trigger(column), prefix=sql.Literal(NEUTRALISING_PREFIX), name=name
        )
    else:
        cell = sql.SQL("{}").format(name)
    return sql.SQL("{} as {}").format(cell, alias)


def csv_query(
    query: str, columns: Sequence[psycopg2.extensions.Column], *, neutralise_formulas: bool
) -> sql.Composed:
    """``query`` with every column projected as its csv cell, columns and row order unchanged.

    The question's ORDER BY stays inside: Postgres keeps a sorted subquery's order through a
    plain projection (no join, grouping or window on top), which is all this adds.
    """
    _unique_names(columns)
    return sql.SQL("select {} from ({}) as answer").format(
        sql.SQL(", ").join(csv_cell(column, neutralise_formulas) for column in columns),
        sql.SQL(query),
    )


def count_query(query: str, columns: Sequence[psycopg2.extensions.Column]) -> sql.Composed:
    """How many cells of ``query``'s answer neutralising its formulas changes."""
    _unique_names(columns)
    tests = [
        sql.SQL("count(*) filter (where {})").format(_starts_with_trigger(column))
        for column in columns
        if is_text_column(column.type_code)
    ]
    total = sql.SQL(" + ").join(tests) if tests else sql.SQL("0")
    return sql.SQL("select {} from ({}) as answer").format(total, sql.SQL(query))


def neutralised_cells(cursor: psycopg2.extensions.cursor, query: str) -> int:
    """The number of cells of ``query``'s answer that a neutralised csv export changes."""
    cursor.execute(count_query(query, result_columns(cursor, query)))
    row = cursor.fetchone()
    return int(row[0]) if row else 0
