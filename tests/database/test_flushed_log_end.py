"""Reading the log up to its flushed end includes every commit made before the read, also
asynchronous ones the server has not flushed yet (docs/ingestion.md, "Just-made changes")."""

from __future__ import annotations

import uuid
from contextlib import closing

import pytest

from ingestion.database.connection import connect
from ingestion.database.replication import flushed_log_end
from ingestion.settings import ConnectionSettings

pytestmark = pytest.mark.integration


def test_an_asynchronous_commit_is_in_the_flushed_log(warehouse: ConnectionSettings) -> None:
    table = f"public.flushed_probe_{uuid.uuid4().hex[:8]}"
    with closing(connect(warehouse, warehouse.database)) as writer, writer.cursor() as cursor:
        cursor.execute("set synchronous_commit = off")
        cursor.execute(f"create table if not exists {table} (value text)")
        for round_ in range(5):
            cursor.execute(
                f"insert into {table} select md5(g::text) from generate_series(1, 2000) g"
            )
            writer.commit()
            cursor.execute("select pg_current_wal_insert_lsn() - '0/0'::pg_lsn")
            written = int(cursor.fetchone()[0])  # type: ignore[index]
            writer.commit()
            with closing(connect(warehouse, warehouse.database)) as reader:
                end = flushed_log_end(reader)
                with reader.cursor() as check:
                    check.execute("select pg_current_wal_flush_lsn() - '0/0'::pg_lsn")
                    flushed_now = int(check.fetchone()[0])  # type: ignore[index]
            assert end >= written, f"round {round_}: the read would end before a commit"
            assert flushed_now >= end
        cursor.execute(f"drop table {table}")
        writer.commit()
