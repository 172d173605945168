"""`shopflow db ...`: the Postgres server behind the warehouse."""

from __future__ import annotations

import os

import typer

from ingestion.cli.console import console, fail
from ingestion.database import service
from ingestion.database.connection import server_version
from ingestion.database.errors import DatabaseError
from ingestion.database.local_server import binary
from ingestion.settings import connection_settings
from ingestion.transform.dbt_profile import write_profile

app = typer.Typer(help="Start, stop and reach the Postgres server.", no_args_is_help=True)


@app.command()
def start() -> None:
    """Start the local server (a no-op if it runs, or if an external server is configured)."""
    try:
        ready = service.ensure_ready()
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
    profile = write_profile(settings)
    console.print(f"dbt profile written to {profile.name} (git-ignored).")


@app.command()
def stop() -> None:
    """Stop the local server (never touches an external one or another program)."""
    settings = connection_settings()
    if settings.external:
        console.print("An external server is configured (SHOPFLOW_PG_HOST): nothing to stop.")
        return
    try:
        stopped = service.stop_local()
    except DatabaseError as exc:
        fail(str(exc))
    console.print("Stopped the local server." if stopped else "The local server was not running.")


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
            f"local server: running (pid {state.pid}) on {where}, data in {state.data_dir}"
        )
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
    print(settings.ops_url if ops else settings.warehouse_url)


@app.command()
def psql(
    ops: bool = typer.Option(False, "--ops", help="Connect to the operations database."),
) -> None:
    """Open psql (shipped with the embedded server) on the warehouse."""
    settings = connection_settings()
    target = settings.ops_url if ops else settings.warehouse_url
    executable = str(binary("psql"))
    os.execv(executable, [executable, target])
