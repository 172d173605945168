"""`shopflow simulate api`: serve the storefront API in the foreground until Ctrl-C."""

from __future__ import annotations

import logging

import typer

from ingestion.cli.console import console, fail
from ingestion.cli.ready import ready_settings
from ingestion.simulators.storefront_api.config import (
    DEFAULT_RATE_LIMIT_PER_SECOND,
    DEFAULT_SEED,
    DEFAULT_SLOW_SECONDS,
    ENV_API_KEY,
    ENV_DUPLICATES,
    ENV_ERROR_RATE,
    ENV_EXTRA_FIELD,
    ENV_MALFORMED_RATE,
    ENV_RATE_LIMIT,
    ENV_SEED,
    ENV_SLOW_RATE,
    ENV_SLOW_SECONDS,
    ApiConfig,
    generate_api_key,
)
from ingestion.simulators.storefront_api.server import HOST, serve_forever

logger = logging.getLogger(__name__)

DEFAULT_PORT = 8765


def api(
    port: int = typer.Option(DEFAULT_PORT, "--port", min=1, max=65535, help="Port on 127.0.0.1."),
    api_key: str | None = typer.Option(
        None,
        "--api-key",
        envvar=ENV_API_KEY,
        show_default=False,
        help="The key clients must send as a bearer token (generated when not given).",
    ),
    rate_limit: int = typer.Option(
        DEFAULT_RATE_LIMIT_PER_SECOND,
        "--rate-limit",
        envvar=ENV_RATE_LIMIT,
        min=1,
        help="Requests per second allowed per key; more get 429.",
    ),
    error_rate: float = typer.Option(
        0.0, "--error-rate", envvar=ENV_ERROR_RATE, min=0.0, max=1.0, help="Share of 500/503."
    ),
    slow_rate: float = typer.Option(
        0.0, "--slow-rate", envvar=ENV_SLOW_RATE, min=0.0, max=1.0, help="Share of slow answers."
    ),
    slow_seconds: float = typer.Option(
        DEFAULT_SLOW_SECONDS,
        "--slow-seconds",
        envvar=ENV_SLOW_SECONDS,
        min=0.0,
        help="How long a slow answer waits.",
    ),
    malformed_rate: float = typer.Option(
        0.0,
        "--malformed-rate",
        envvar=ENV_MALFORMED_RATE,
        min=0.0,
        max=1.0,
        help="Share of records with a missing id, a bad or negative amount, or a bad timestamp.",
    ),
    extra_field: bool = typer.Option(
        False,
        "--extra-field/--no-extra-field",
        envvar=ENV_EXTRA_FIELD,
        help="Products gain a new field, sustainability_score.",
    ),
    duplicates: bool = typer.Option(
        False,
        "--duplicates/--no-duplicates",
        envvar=ENV_DUPLICATES,
        help="Repeat the last record of a page first on the next page.",
    ),
    seed: int = typer.Option(
        DEFAULT_SEED, "--seed", envvar=ENV_SEED, help="Seed of the fault draws."
    ),
) -> None:
    """Serve the simulated storefront API on 127.0.0.1 until interrupted."""
    settings = ready_settings()
    config = ApiConfig(
        api_key=api_key or generate_api_key(),
        rate_limit_per_second=rate_limit,
        error_rate=error_rate,
        slow_rate=slow_rate,
        slow_seconds=slow_seconds,
        malformed_rate=malformed_rate,
        extra_field=extra_field,
        duplicates=duplicates,
        seed=seed,
        connection=settings,
    )
    console.print(f"Storefront API on [bold]http://{HOST}:{port}[/] (docs: /docs)")
    console.print(f"serving the storefront schema of database {settings.ops_database}")
    console.print(f"API key: [bold]{config.api_key}[/]  (send as 'Authorization: Bearer <key>')")
    if config.faults_enabled:
        console.print(f"[yellow]faults on:[/] {config!r}")
    console.print("Press Ctrl-C to stop.")
    try:
        serve_forever(config, port)
    except KeyboardInterrupt:
        logger.debug("interrupted")
    except OSError as exc:
        fail(f"cannot serve on {HOST}:{port}: {exc.strerror or exc}")
    console.print("Storefront API stopped.")
