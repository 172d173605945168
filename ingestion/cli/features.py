"""`shopflow features ...`: the feature store (Feast) over the dbt feature tables: register it,
load the online store, write point-in-time training sets, serve online look-ups
(docs/features.md). Feast runs in its own virtualenv (`make feast`)."""

from __future__ import annotations

from pathlib import Path

import typer

from ingestion.cli.console import console, fail
from ingestion.cli.project_settings import project_settings
from ingestion.database.errors import DatabaseError
from ingestion.database.server_settings import connection_settings
from ingestion.database.service import ensure_ready
from ingestion.features.feast_process import FeatureStoreError, run_feast_task
from ingestion.settings import ConnectionSettings

app = typer.Typer(
    help="Feature store: apply, materialize, training sets, online serving (Feast).",
    no_args_is_help=True,
)

HOST = "127.0.0.1"
DEFAULT_PORT = 6566
SERVICES = ("customer_value_scoring", "product_recommendations")


def _ready_settings() -> ConnectionSettings:
    settings = connection_settings()
    try:
        ensure_ready(settings)
    except DatabaseError as exc:
        fail(str(exc))
    return settings


def _task(args: list[str], stream: bool = False) -> dict[str, object]:
    try:
        return run_feast_task(args, project_settings(), _ready_settings(), stream=stream)
    except FeatureStoreError as exc:
        fail(str(exc))


def _service(name: str) -> str:
    if name not in SERVICES:
        fail(f"No feature service {name!r}: pick one of {', '.join(SERVICES)}.")
    return name


@app.command()
def apply() -> None:
    """Register the entities, feature views and services (features/feature_repo) and create
    the online store's tables; run after a change of definitions.py."""
    with console.status("feast apply"):
        result = _task(["apply"])
    console.print(
        f"Applied feature views {', '.join(result['feature_views'])}; "  # type: ignore[arg-type]
        f"services {', '.join(result['feature_services'])}."  # type: ignore[arg-type]
    )


@app.command()
def materialize() -> None:
    """Load the newest feature rows since the last run into the online store (up to the
    newest as-of day the feature tables hold), and drop erased entities from it."""
    with console.status("feast materialize"):
        result = _task(["materialize"])
    for view, loaded in result.items():
        console.print(f"{view}: {loaded}")


@app.command("training-set")
def training_set(
    entities: Path = typer.Option(
        ...,
        "--entities",
        exists=True,
        dir_okay=False,
        help="csv or parquet: the service's entity id column (customer_id or product_id) and "
        "event_timestamp (UTC), one training row each.",
    ),
    out: Path = typer.Option(..., "--out", help="The training set to write (.csv or .parquet)."),
    service: str = typer.Option(
        SERVICES[0], "--service", help=f"Feature service: {' or '.join(SERVICES)}."
    ),
) -> None:
    """Write a point-in-time correct training set: each entity row gets the features as they
    were at its event_timestamp (Feast's historical retrieval on the warehouse)."""
    with console.status("feast get_historical_features"):
        result = _task(
            [
                *("training-set", "--entities", str(entities.resolve())),
                *("--out", str(out.resolve()), "--service", _service(service)),
            ]
        )
    console.print(f"Wrote {result['rows']} rows x {result['columns']} columns to {out}.")


@app.command()
def baseline() -> None:
    """Train the baseline model "orders again within 90 days" on training sets at monthly
    cut-offs and print its ROC AUC on a later period (docs/features.md, "Baseline model")."""
    with console.status("training the baseline model"):
        result = _task(["baseline"])
    for name, value in result.items():
        console.print(f"{name}: {value}")


@app.command()
def serve(
    port: int = typer.Option(DEFAULT_PORT, "--port", min=1, max=65535, help="Port on 127.0.0.1."),
) -> None:
    """Serve online look-ups with Feast's feature server on http://127.0.0.1:PORT
    (POST /get-online-features) until Ctrl-C."""
    console.print(f"Serving online features on http://{HOST}:{port} (Ctrl-C to stop)")
    try:
        _task(["serve", "--host", HOST, "--port", str(port)], stream=True)
    except KeyboardInterrupt:
        console.print("Stopped.")
