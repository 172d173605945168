"""No secret in any output, log, warehouse row or state file of a full run; identifiers in SQL
are quoted.

(The storefront API's refusal of a missing or wrong token is proven in
``tests/simulators/storefront_api/test_contract_and_paging.py::test_v1_refuses_a_missing_or_wrong_key``.)
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from ingestion.database.admin import ADMIN_PASSWORD_KEY
from ingestion.database.connection import autocommit
from ingestion.database.errors import DatabaseError
from ingestion.database.local_credentials import credentials_file, local_secret
from ingestion.database.roles import analyst_password
from ingestion.loading.runtime import pipelines_dir
from ingestion.settings import ConnectionSettings, state_dir
from tests.integration.ingest_support import private_world
from tests.reliability.references import BuiltReference, Reference
from tests.reliability.support import API_KEY, CliWorld

log = logging.getLogger(__name__)

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow]


def files_holding(
    folder: Path, secret: bytes, skip: frozenset[Path] = frozenset(), *more: bytes
) -> list[str]:
    """Files under ``folder`` whose bytes contain ``secret`` (or one of ``more``). Files and
    folders that vanish while the search runs, as other tests' databases do, are passed over."""
    wanted = (secret, *more)
    hits = []
    for root, _, names in os.walk(folder, onerror=lambda _: None):
        for name in names:
            path = Path(root) / name
            try:  # a link is not followed: what it points at is searched where it lives
                if path in skip or path.is_symlink() or not path.is_file():
                    continue
                content = path.read_bytes()
            except OSError:
                continue
            if any(value in content for value in wanted):
                hits.append(str(path))
    return hits


def rows_holding(settings: ConnectionSettings, database: str, secrets: list[str]) -> list[str]:
    """Every table and view of every schema of ``database`` whose rows, as text, contain one
    of ``secrets`` (a row's text holds every column's)."""
    hits = []
    with autocommit(settings, database) as cursor:
        cursor.execute(
            "select n.nspname, c.relname from pg_class as c"
            " join pg_namespace as n on n.oid = c.relnamespace"
            " where c.relkind in ('r', 'p', 'v', 'm')"
            " and n.nspname not like 'pg\\_%%' and n.nspname <> 'information_schema'"
        )
        for schema, name in cursor.fetchall():
            cursor.execute(
                sql.SQL(
                    "select count(*) from {} as r where exists"
                    " (select 1 from unnest(%s) as s (secret) where strpos(r::text, s.secret) > 0)"
                ).format(sql.Identifier(schema, name)),
                (secrets,),
            )
            if cursor.fetchone()[0]:
                hits.append(f"{database}.{schema}.{name}")
    return hits


def local_secrets(settings: ConnectionSettings) -> list[str]:
    """The local server's other passwords: the analyst's and the administrator's."""
    return [] if settings.external else [analyst_password(), local_secret(ADMIN_PASSWORD_KEY)]


def test_no_password_or_api_key_in_any_output_log_row_or_state_file(
    reference: Reference, built_reference: BuiltReference
) -> None:
    """Both clean runs: `shopflow ingest all` on one world, `shopflow run` on another; then
    every table and view of their databases, and the whole state folder (the server's data
    and log, dlt's folders, dbt's state) except the credentials file itself."""
    state_files: set[bytes] = set()
    for world, output in (
        (reference.world, reference.output),
        (built_reference.world, built_reference.output),
    ):
        secrets = [world.settings.password, API_KEY, *local_secrets(world.settings)]
        for secret in secrets:
            assert secret not in output
            # dbt's logs and target folder, the landing zone, dlt's working folders and traces
            assert files_holding(world.files, secret.encode()) == []
            assert files_holding(pipelines_dir(world.settings), secret.encode()) == []
            state_files.add(secret.encode())
        for database in (world.settings.database, world.settings.ops_database):
            assert rows_holding(world.settings, database, secrets) == []
    first, *others = sorted(state_files)
    assert files_holding(state_dir(), first, frozenset({credentials_file()}), *others) == []


@pytest.mark.after_the_suite
def test_no_secret_anywhere_after_the_whole_suite(
    server_settings: ConnectionSettings,
    reference: Reference,
    built_reference: BuiltReference,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Runs after every other reliability test (``after_the_suite``): what all the faults
    left behind, the worlds' files under pytest's temporary root (dbt's logs and targets,
    landing and quarantine folders, exports, reports, traces), the whole state folder (the
    server's data and log, dlt's folders, the audit journal, dbt's state) and every
    database still on the server holds no password of the server's roles nor the API key."""
    wanted = [server_settings.password, API_KEY, *local_secrets(server_settings)]
    first, *others = (secret.encode() for secret in wanted)
    skip = frozenset({credentials_file()})
    assert files_holding(tmp_path_factory.getbasetemp(), first, skip, *others) == []
    assert files_holding(state_dir(), first, skip, *others) == []
    with autocommit(server_settings, "postgres") as cursor:
        cursor.execute("select datname from pg_database where datallowconn")
        databases = [name for (name,) in cursor.fetchall()]
    assert reference.world.settings.database in databases  # the search looks where data is
    hits = []
    for database in databases:
        try:
            hits += rows_holding(server_settings, database, wanted)
        except (DatabaseError, psycopg2.Error) as exc:  # dropped meanwhile, or not ours
            log.info("passed over database %s: %s", database, exc)
    assert hits == []


def test_database_names_that_need_quoting_load_like_any_other(
    server_settings: ConnectionSettings, tmp_path: Path
) -> None:
    with private_world(server_settings, tmp_path, prefix='Shop-Flow "Odd"; DB ') as world:
        cli_world = CliWorld(world.settings, world.landing.parent)
        for command in (("simulate", "all", "--scale", "0.05"), ("ingest", "all")):
            done = cli_world.run(*command)
            assert done.returncode == 0, done.stdout + done.stderr
        counts = world.query(
            "select (select count(*) from raw_ops.orders), (select count(*) from"
            " raw_storefront.products), (select count(*) from raw_files.events)"
        )[0]
        assert all(count > 0 for count in counts), counts


def test_the_secret_search_finds_a_planted_secret(reference: Reference, tmp_path: Path) -> None:
    """The search above can fail: a secret planted in a nested file, in a JSON column of a new
    schema and in a view is found in each."""
    secret = f"planted-{secrets.token_urlsafe(16)}"
    nested = tmp_path / "a" / "b" / "trace.bin"
    nested.parent.mkdir(parents=True)
    nested.write_bytes(b"\x00\x01" + secret.encode() + b"\xff")
    assert files_holding(tmp_path, b"absent", frozenset(), secret.encode()) == [str(nested)]
    assert files_holding(tmp_path, secret.encode(), frozenset({nested})) == []
    settings = reference.world.settings
    with autocommit(settings, settings.database) as cursor:
        cursor.execute(
            "create schema planted; create table planted.payloads (id int, body jsonb);"
            " insert into planted.payloads values (1, %s::jsonb);"
            " create view planted.bodies as select body::text as body from planted.payloads",
            (f'{{"token": "{secret}"}}',),
        )
    try:
        assert sorted(rows_holding(settings, settings.database, ["absent", secret])) == [
            f"{settings.database}.planted.bodies",
            f"{settings.database}.planted.payloads",
        ]
    finally:
        with autocommit(settings, settings.database) as cursor:
            cursor.execute("drop schema planted cascade")
