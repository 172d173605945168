"""What the tests share about the worlds they build: the size of the session's pipeline run,
the length of its tick, and the warehouse that run leaves (fixtures in tests/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from typer.testing import Result

from ingestion.database.connection import autocommit
from ingestion.settings import ConnectionSettings

PIPELINE_SCALE = "0.2"
TICK_DAYS = "7"


@dataclass(frozen=True)
class BuiltWarehouse:
    settings: ConnectionSettings
    target_dir: Path
    first_run: Result

    def query(self, statement: str) -> list[tuple]:
        with autocommit(self.settings, self.settings.database) as cursor:
            cursor.execute(statement)
            return list(cursor.fetchall())

    def execute(self, statement: str) -> None:
        with autocommit(self.settings, self.settings.database) as cursor:
            cursor.execute(statement)

    def scalar(self, statement: str) -> object:
        return self.query(statement)[0][0]


MOVES = ("Lyon-between-runs", "Nantes-between-runs")
"""Where the session's first customer moves, twice, between the first run and the ticked one."""


def move_first_customer_twice(settings: ConnectionSettings) -> int:
    """Two moves of the first customer in the operations database, each its own transaction
    stamped after every change so far (business time); returns the customer."""
    with autocommit(settings, settings.ops_database) as cursor:
        cursor.execute("select min(customer_id) from ops.customers")
        customer = int(cursor.fetchone()[0])  # type: ignore[index]
        for minutes, city in enumerate(MOVES, start=1):
            cursor.execute(
                "update ops.customers set city = %s, updated_at = (select max(updated_at)"
                " from ops.customers) + make_interval(mins => %s) where customer_id = %s",
                (city, minutes, customer),
            )
    return customer
