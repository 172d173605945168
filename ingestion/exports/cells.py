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
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg2.extensions
from psycopg2 import sql

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
"""First characters that make a spreadsheet evaluate a cell (OWASP), and full-width forms."""
NEUTRALISING_PREFIX = "'"

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


def neutralising_query(query: str, columns: Sequence[psycopg2.extensions.Column]) -> sql.Composed:
    """``query`` with every text column's cells neutralised, columns and row order unchanged.

    The question's ORDER BY stays inside: Postgres keeps a sorted subquery's order through a
    plain projection (no join, grouping or window on top), which is all this adds.
    """
    _unique_names(columns)
    projections: list[sql.Composable] = []
    for column in columns:
        name = sql.Identifier("answer", column.name)
        if is_text_column(column.type_code):
            projections.append(
                sql.SQL(
                    "case when {test} then {prefix} || {name}::text"
                    " else {name}::text end as {alias}"
                ).format(
                    test=_starts_with_trigger(column),
                    prefix=sql.Literal(NEUTRALISING_PREFIX),
                    name=name,
                    alias=sql.Identifier(column.name),
                )
            )
        else:
            projections.append(name)
    return sql.SQL("select {} from ({}) as answer").format(
        sql.SQL(", ").join(projections), sql.SQL(query)
    )


def count_query(query: str, columns: Sequence[psycopg2.extensions.Column]) -> sql.Composed:
    """How many cells of ``query``'s answer ``neutralising_query`` changes."""
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
