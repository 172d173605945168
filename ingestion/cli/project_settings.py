"""The project's settings for a command, resolved once: the `shopflow` callback reads them
from the environment before the command starts (a variable that cannot work stops it with
one sentence) and keeps them on click's context; the command takes them from there and
passes them down. Light on purpose: `shopflow <command> --help` goes through it."""

from __future__ import annotations

# typer vendors click: its context (not the click package's) carries the settings
from typer._click.globals import get_current_context

from ingestion.cli.console import fail
from ingestion.settings import Settings, SettingsError


def resolve_settings() -> Settings:
    """The settings in force, read from the environment; a variable that cannot work leaves
    the command with its one-sentence message and exit code 1."""
    try:
        return Settings.from_environment()
    except SettingsError as exc:
        fail(str(exc))


def project_settings() -> Settings:
    """The settings the `shopflow` callback resolved for this command, or resolved now when
    the command runs without it (called directly)."""
    context = get_current_context(silent=True)
    resolved = context.find_root().obj if context is not None else None
    return resolved if isinstance(resolved, Settings) else resolve_settings()
