"""Decoding of PostgreSQL's built-in ``pgoutput`` logical replication messages (protocol 1).

The slot's changes come as one binary message each (``pg_logical_slot_peek_binary_changes``):
``B`` begins a transaction, ``R`` describes a table (sent before its first change and again
after its columns change), ``I``/``U``/``D`` insert, update and delete one row, ``T``
truncates tables, ``C`` commits. Values arrive in their text form (the session's
``TimeZone`` and ``DateStyle`` decide how timestamps read); a value the update did not touch
and that is stored out of line (TOAST) arrives as ``UNCHANGED``, not as its value.

Reference: https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass
from typing import Final

UNCHANGED: Final = object()
"""A TOASTed value the change left as it was (``u`` in the tuple): not sent again."""

INSERT = "insert"
UPDATE = "update"
DELETE = "delete"
TRUNCATE = "truncate"
POSTGRES_EPOCH: Final = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
"""Where the log's timestamps count their microseconds from."""

_INT16 = struct.Struct(">h")
_INT32 = struct.Struct(">i")
_UINT32 = struct.Struct(">I")
_INT64 = struct.Struct(">q")
_NULL, _UNCHANGED, _TEXT, _BINARY = b"nutb"
"""The kinds of a value in a row: NULL, unchanged TOASTed, text, binary."""


class DecodeError(ValueError):
    """A message that is not well-formed ``pgoutput`` protocol 1."""


@dataclass(frozen=True)
class RelationColumn:
    name: str
    type_oid: int
    type_modifier: int
    is_key: bool


@dataclass(frozen=True)
class Relation:
    """A table as the log describes it, by its object id."""

    oid: int
    schema: str
    table: str
    replica_identity: str
    columns: tuple[RelationColumn, ...]


@dataclass(frozen=True)
class Begin:
    final_lsn: int
    xid: int
    commit_time: dt.datetime
    """When the transaction committed (the server's clock): how old an unread change is."""


@dataclass(frozen=True)
class Commit:
    commit_lsn: int
    end_lsn: int


Values = tuple[object, ...]
"""One row's values in the relation's column order: text, None (NULL) or ``UNCHANGED``."""


@dataclass(frozen=True)
class Change:
    """One row inserted, updated or deleted. ``old`` is the old key (or the whole old row
    under ``REPLICA IDENTITY FULL``) when an update changed the key, and a delete's row."""

    kind: str
    relation_oid: int
    new: Values | None
    old: Values | None


@dataclass(frozen=True)
class Truncate:
    relation_oids: tuple[int, ...]


Message = Begin | Commit | Relation | Change | Truncate | None


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 1  # after the message type byte

    def take(self, size: int) -> bytes:
        end = self.at + size
        if end > len(self.data):
            raise DecodeError(f"message ends after {len(self.data)} bytes, {end} needed")
        chunk = self.data[self.at : end]
        self.at = end
        return chunk

    def int8(self) -> int:
        return self.take(1)[0]

    def int16(self) -> int:
        return int(_INT16.unpack(self.take(2))[0])

    def int32(self) -> int:
        return int(_INT32.unpack(self.take(4))[0])

    def uint32(self) -> int:
        return int(_UINT32.unpack(self.take(4))[0])

    def int64(self) -> int:
        return int(_INT64.unpack(self.take(8))[0])

    def string(self) -> str:
        end = self.data.find(b"\x00", self.at)
        if end < 0:
            raise DecodeError("a string without its terminating zero byte")
        text = self.data[self.at : end].decode()
        self.at = end + 1
        return text

    def tuple_data(self) -> Values:
        """A row's values. The read's hot loop (once per column of every change): it indexes
        the bytes itself instead of calling ``take`` per field."""
        data, at = self.data, self.at
        values: list[object] = []
        try:
            (count,) = _INT16.unpack_from(data, at)
            at += 2
            for _ in range(count):
                kind = data[at]
                at += 1
                if kind == _NULL:
                    values.append(None)
                elif kind == _UNCHANGED:
                    values.append(UNCHANGED)
                elif kind in (_TEXT, _BINARY):
                    (size,) = _INT32.unpack_from(data, at)
                    end = at + 4 + size
                    if end > len(data):
                        raise DecodeError(f"message ends after {len(data)} bytes, {end} needed")
                    raw = data[at + 4 : end]
                    values.append(raw.decode() if kind == _TEXT else raw)
                    at = end
                else:
                    raise DecodeError(f"unknown tuple value kind {chr(kind)!r}")
        except (IndexError, struct.error) as exc:
            raise DecodeError(f"message ends after {len(data)} bytes, in a row's values") from exc
        self.at = at
        return tuple(values)


def decode(data: bytes) -> Message:
    """One ``pgoutput`` message; None for the kinds capture does not need (origin, type,
    logical decoding messages)."""
    if not data:
        raise DecodeError("an empty message")
    kind = chr(data[0])
    reader = _Reader(data)
    if kind == "B":
        final_lsn = reader.int64()
        committed = POSTGRES_EPOCH + dt.timedelta(microseconds=reader.int64())
        return Begin(final_lsn, reader.uint32(), committed)
    if kind == "C":
        reader.int8()  # flags
        return Commit(commit_lsn=reader.int64(), end_lsn=reader.int64())
    if kind == "R":
        oid = reader.uint32()
        schema, table = reader.string(), reader.string()
        identity = chr(reader.int8())
        columns = []
        for _ in range(reader.int16()):
            flags = reader.int8()
            name = reader.string()
            columns.append(RelationColumn(name, reader.uint32(), reader.int32(), bool(flags & 1)))
        return Relation(oid, schema, table, identity, tuple(columns))
    if kind == "I":
        oid = reader.uint32()
        _expect(reader, "N")
        return Change(INSERT, oid, reader.tuple_data(), None)
    if kind == "U":
        oid = reader.uint32()
        marker = chr(reader.int8())
        old = None
        if marker in ("K", "O"):
            old = reader.tuple_data()
            marker = chr(reader.int8())
        if marker != "N":
            raise DecodeError(f"an update without its new row (found {marker!r})")
        return Change(UPDATE, oid, reader.tuple_data(), old)
    if kind == "D":
        oid = reader.uint32()
        marker = chr(reader.int8())
        if marker not in ("K", "O"):
            raise DecodeError(f"a delete without its old key (found {marker!r})")
        return Change(DELETE, oid, None, reader.tuple_data())
    if kind == "T":
        count = reader.int32()
        reader.int8()  # options: cascade / restart identity
        return Truncate(tuple(reader.uint32() for _ in range(count)))
    if kind in ("O", "Y", "M"):
        return None
    raise DecodeError(f"unknown pgoutput message type {kind!r}")


def _expect(reader: _Reader, marker: str) -> None:
    found = chr(reader.int8())
    if found != marker:
        raise DecodeError(f"expected {marker!r}, found {found!r}")


def lsn_to_int(text: str) -> int:
    """``'3/65FA16E0'`` (how Postgres writes a log position) as one number."""
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def int_to_lsn(value: int) -> str:
    """A log position as Postgres writes it."""
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"
