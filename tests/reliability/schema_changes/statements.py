"""SQL run straight on a world's operations DB or warehouse, the way an upstream team or an
operator changes a schema behind the pipeline's back."""

from __future__ import annotations

from ingestion.database.connection import autocommit
from ingestion.settings import ConnectionSettings


def ops_execute(settings: ConnectionSettings, *statements: str) -> None:
    with autocommit(settings, settings.ops_database) as cursor:
        for statement in statements:
            cursor.execute(statement)


def warehouse_execute(settings: ConnectionSettings, *statements: str) -> None:
    with autocommit(settings, settings.database) as cursor:
        for statement in statements:
            cursor.execute(statement)
