"""The pgoutput decoder and the text-to-Arrow typing, on messages built byte by byte from the
protocol's documentation (the integration tests read the real server's)."""

from __future__ import annotations

import datetime as dt
import struct
from decimal import Decimal

import pyarrow as pa
import pytest

from ingestion.sources.ops.folded_changes import TableChanges
from ingestion.sources.ops.pgoutput import (
    DELETE,
    INSERT,
    UNCHANGED,
    UPDATE,
    Begin,
    Change,
    Commit,
    DecodeError,
    Relation,
    Truncate,
    decode,
    int_to_lsn,
    lsn_to_int,
)
from ingestion.sources.ops.text_values import SourceColumn, arrow_type, typed_table


def tuple_data(*values: object) -> bytes:
    out = struct.pack(">h", len(values))
    for value in values:
        if value is None:
            out += b"n"
        elif value is UNCHANGED:
            out += b"u"
        else:
            raw = str(value).encode()
            out += b"t" + struct.pack(">i", len(raw)) + raw
    return out


def test_begin_commit_and_relation() -> None:
    a_day = 86_400_000_000  # microseconds after 2000-01-01, Postgres's epoch
    begin = decode(b"B" + struct.pack(">qqI", 0x3_65FA1998, a_day, 92687))
    assert begin == Begin(0x3_65FA1998, 92687, dt.datetime(2000, 1, 2, tzinfo=dt.UTC))
    commit = decode(b"C\x00" + struct.pack(">qqq", 10, 20, 99))
    assert commit == Commit(commit_lsn=10, end_lsn=20)
    body = struct.pack(">I", 16384) + b"ops\x00customers\x00d" + struct.pack(">h", 2)
    body += b"\x01customer_id\x00" + struct.pack(">Ii", 20, -1)
    body += b"\x00city\x00" + struct.pack(">Ii", 25, -1)
    relation = decode(b"R" + body)
    assert isinstance(relation, Relation)
    assert (relation.oid, relation.schema, relation.table) == (16384, "ops", "customers")
    assert [(c.name, c.is_key, c.type_oid) for c in relation.columns] == [
        ("customer_id", True, 20),
        ("city", False, 25),
    ]


def test_insert_update_delete_truncate() -> None:
    oid = struct.pack(">I", 7)
    assert decode(b"I" + oid + b"N" + tuple_data("1", "Lyon")) == Change(
        INSERT, 7, ("1", "Lyon"), None
    )
    moved_key = decode(b"U" + oid + b"K" + tuple_data("1", None) + b"N" + tuple_data("2", "Nice"))
    assert moved_key == Change(UPDATE, 7, ("2", "Nice"), ("1", None))
    toasted = decode(b"U" + oid + b"N" + tuple_data("1", UNCHANGED))
    assert isinstance(toasted, Change) and toasted.new == ("1", UNCHANGED)
    assert decode(b"D" + oid + b"K" + tuple_data("1", None)) == Change(DELETE, 7, None, ("1", None))
    truncate = decode(b"T" + struct.pack(">ib", 2, 0) + struct.pack(">II", 7, 8))
    assert truncate == Truncate((7, 8))
    assert decode(b"O" + b"\x00" * 9 + b"origin\x00") is None


@pytest.mark.parametrize(
    "message",
    [
        b"",
        b"Z",
        b"I" + struct.pack(">I", 7) + b"X",
        b"U" + struct.pack(">I", 7) + b"K",
        b"I" + struct.pack(">I", 7) + b"N" + tuple_data("1", "Lyon")[:-2],
        b"I" + struct.pack(">I", 7) + b"N" + tuple_data("1", "Lyon")[:-6],
        b"I" + struct.pack(">I", 7) + b"N" + struct.pack(">h", 1) + b"x",
    ],
    ids=[
        "empty",
        "unknown-kind",
        "insert-without-new-row",
        "cut-short",
        "value-cut-short",
        "value-size-cut-short",
        "unknown-value-kind",
    ],
)
def test_malformed_messages_are_refused_with_a_reason(message: bytes) -> None:
    with pytest.raises(DecodeError):
        decode(message)


def test_log_positions_read_and_write_like_postgres() -> None:
    assert lsn_to_int("3/65FA16E0") == (3 << 32) + 0x65FA16E0
    assert int_to_lsn(lsn_to_int("3/65FA16E0")) == "3/65FA16E0"
    assert int_to_lsn(0) == "0/0"


def test_folding_keeps_the_last_change_and_fills_unsent_values_from_the_earlier_one() -> None:
    table = TableChanges("customer_id")
    table.write("1", 10, INSERT, {"customer_id": "1", "notes": "long text"})
    table.write("1", 11, UPDATE, {"customer_id": "1", "notes": UNCHANGED})
    assert table.rows["1"] == (11, UPDATE, {"customer_id": "1", "notes": "long text"})
    table.delete("1", 12)
    assert "1" not in table.rows and table.deleted == {"1": 12}
    table.write("1", 13, INSERT, {"customer_id": "1", "notes": "back"})
    assert table.deleted == {} and table.rows["1"][0] == 13
    table.truncate()
    assert table.truncated and not table.rows and not table.deleted


def test_text_values_become_the_cursor_readers_types() -> None:
    columns = [
        SourceColumn("id", "bigint", False),
        SourceColumn("line", "integer", False),
        SourceColumn("price", "numeric(12,2)", False),
        SourceColumn("paid", "boolean", True),
        SourceColumn("at", "timestamp with time zone", True),
        SourceColumn("on", "date", True),
        SourceColumn("code", "character(3)", True),
    ]
    table, refused = typed_table(
        columns,
        [
            ["1", "2"],
            ["1", "3"],
            ["12.30", "0.05"],
            ["t", None],
            ["2026-01-02 03:04:05.123456+00", None],
            ["2026-01-02", None],
            ["EUR", None],
        ],
    )
    assert refused == {}
    assert table.schema.field("line").type == pa.int64()
    assert not table.schema.field("id").nullable and table.schema.field("code").nullable
    assert table.column("price").to_pylist() == [Decimal("12.30"), Decimal("0.05")]
    assert table.column("paid").to_pylist() == [True, None]
    assert table.column("at").to_pylist()[0].isoformat() == "2026-01-02T03:04:05.123456+00:00"
    assert arrow_type("timestamp(3) with time zone") == pa.timestamp("us", tz="UTC")
    assert arrow_type("numeric") == pa.decimal128(38, 9)
    assert arrow_type("jsonb") == pa.string()


def test_a_value_the_column_cannot_take_sets_its_row_aside_and_infinity_is_clamped() -> None:
    columns = [
        SourceColumn("id", "bigint", False),
        SourceColumn("amount", "numeric(12,2)", True),
        SourceColumn("until", "timestamp with time zone", True),
        SourceColumn("on", "date", True),
    ]
    table, refused = typed_table(
        columns,
        [
            ["1", "2", "3"],
            ["1.00", "NaN", "3.00"],
            ["infinity", None, "-infinity"],
            ["2026-01-01", "2026-01-02", "infinity"],
        ],
    )
    assert table.column("id").to_pylist() == [1, 3]
    assert list(refused) == [1] and "amount = 'NaN' does not fit numeric(12,2)" in refused[1]
    until = table.column("until").to_pylist()
    assert (until[0].year, until[1].year) == (9999, 1)
    assert table.column("on").to_pylist()[1] == dt.date(9999, 12, 31)
