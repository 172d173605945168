"""`shopflow db ...`: the Postgres server behind the warehouse."""

from __future__ import annotations

import os

import typer

from ingestion.cli.console import console, err_console, fail
from ingestion.database import service
from ingestion.database.admin import admin_settings
from ingestion.database.connection import database_exists, server_version
from ingestion.database.durability import Durability, read_state
from ingestion.database.errors import DatabaseError
from ingestion.database.local_server import binary
from ingestion.database.server_settings import connection_settings
from ingestion.settings import (
    ENV_HOST,
    ENV_PORT,
    REPO_ROOT,
    ConnectionSettings,
    dbt_profiles_dir,
    explicit_port,
    origin,
)
from ingestion.stage_runner.run_lock import run_lock
from ingestion.stage_runner.warehouse_removal import drop_warehouse
from ingestion.transform.dbt_profile import write_profile

app = typer.Typer(help="Start, stop and reach the Postgres server.", no_args_is_help=True)


@app.command()
def start(
    fast: bool | None = typer.Option(
        None,
        "--fast/--durable",
        help="Switch the local server to fast mode (fsync off: for tests and benchmarks, "
        "whose databases are thrown away) or back to durable. Unset: keep its mode "
        "(a new server is durable).",
    ),
) -> None:
    """Start the local server (a no-op if it runs, or if an external server is configured)."""
    mode = None if fast is None else Durability.FAST if fast else Durability.DURABLE
    try:
        ready = service.ensure_ready(durability=mode)
    except DatabaseError as exc:
        fail(str(exc))
    settings = ready.settings
    where = f"{settings.host}:{settings.port}"
    if settings.external:
        console.print(
            f"Using the external server at {where} (PostgreSQL {ready.version}); nothing started."
        )
    elif ready.started_now:
        console.print(f"Started the local server on {where} (PostgreSQL {ready.version}).")
    else:
        console.print(f"The local server already runs on {where}.")
    for name in ready.created_databases:
        console.print(f"Created database {name}.")
    if ready.durability is not None:
        console.print(f"Durability: {ready.durability.describe()}.", highlight=False)
    elif mode is not None:
        err_console.print(
            "warning: --fast/--durable choose the local server's mode; an external server's "
            "durability is its administrator's choice.",
            highlight=False,
        )
    if ready.superuser:
        err_console.print(
            f"warning: {settings.user} is a superuser on {where}: give the pipeline a plain "
            "role that owns its databases (docs/database.md).",
            markup=False,
            highlight=False,
        )
    profile = write_profile(settings, dbt_profiles_dir() / "profiles.yml")
    where = "profiles.yml (git-ignored)" if profile.parent == REPO_ROOT else str(profile)
    console.print(f"dbt profile written to {where}.", highlight=False)


@app.command()
def stop() -> None:
    """Stop the local server (never touches an external one or another program)."""
    settings = connection_settings()
    if settings.external:
        console.print(f"An external server is configured ({ENV_HOST}): nothing to stop.")
        return
    try:
        stopped = service.stop_local()
    except DatabaseError as exc:
        fail(str(exc))
    console.print("Stopped the local server." if stopped else "The local server was not running.")


@app.command()
def drop(
    confirm: str = typer.Option(
        ...,
        "--confirm",
        help="The warehouse database's name again (SHOPFLOW_PG_DATABASE): nothing is dropped "
        "unless it matches.",
    ),
) -> None:
    """Drop the configured warehouse and operations databases and their local state (dlt's
    folder, the production manifest): a throwaway world's, e.g. after trying the Airflow DAG.
    Refused while a run holds the warehouse."""
    settings = connection_settings()
    if confirm != settings.database:
        fail(
            f"--confirm {confirm!r} is not the configured warehouse {settings.database!r}: "
            f"give its name to drop it and {settings.ops_database!r} (nothing was dropped)."
        )
    try:
        if database_exists(settings, settings.database):
            with run_lock(settings, "db drop", wait_seconds=0):
                pass  # no run holds it now; a run started after this line fails on the drop
        drop_warehouse(settings)
    except DatabaseError as exc:  # RunLockBusyError included: it names the holder
        fail(str(exc))
    console.print(
        f"Dropped {settings.database} and {settings.ops_database} and their local state.",
        highlight=False,
    )


@app.command()
def status() -> None:
    """Say which server is configured and whether it answers."""
    settings = connection_settings()
    where = f"{settings.host}:{settings.port}"
    if settings.external:
        try:
            version = server_version(settings)
        except DatabaseError as exc:
            fail(str(exc))
        console.print(f"external server at {where}: up (PostgreSQL {version})")
        return
    state = service.local_status()
    if state.running:
        console.print(
            f"local server: running (pid {state.pid}) on {settings.host}:{state.port}, "
            f"data in {state.data_dir}"
        )
        try:
            durability = read_state(admin_settings(settings)).describe()
        except DatabaseError:  # e.g. an older server, upgraded by the next `db start`
            durability = "unknown until `shopflow db start` has run with this version"
        console.print(f"durability: {durability}", highlight=False)
        warn_if_port_differs(settings, state.port)
    else:
        console.print(f"local server: stopped (data in {state.data_dir})")
        raise SystemExit(3)


@app.command()
def url(
    ops: bool = typer.Option(
        False, "--ops", help="The operations database instead of the warehouse."
    ),
) -> None:
    """Print a connection URL, e.g. psql "$(shopflow db url)"."""
    settings = connection_settings()
    if not settings.external:
        warn_if_port_differs(settings, service.local_status().port)
    print(settings.ops_url if ops else settings.warehouse_url)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def psql(
    ctx: typer.Context,
    ops: bool = typer.Option(False, "--ops", help="Connect to the operations database."),
) -> None:
    """Open psql (shipped with the embedded server) on the warehouse. Further arguments go to
    psql: shopflow db psql -c "select 1"; shopflow db psql --ops -- -At -c "select 1"."""
    settings = connection_settings()
    if not settings.external:
        warn_if_port_differs(settings, service.local_status().port)
    target = settings.ops_url if ops else settings.warehouse_url
    executable = str(binary("psql"))
    os.execv(executable, [executable, target, *ctx.args])


def warn_if_port_differs(settings: ConnectionSettings, running_port: int | None) -> None:
    """Say plainly when SHOPFLOW_PG_PORT points this shell away from the running local server."""
    if running_port is None or explicit_port() is None or running_port == settings.port:
        return
    err_console.print(
        f"warning: {ENV_PORT}={settings.port} is set (in {origin(ENV_PORT)}), but the local "
        f"server runs on port {running_port}: commands here connect to {settings.port}. Unset "
        f"{ENV_PORT} to use the running server.",
        markup=False,
        highlight=False,
    )
