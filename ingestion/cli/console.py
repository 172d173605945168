"""The terminal output shared by every command: a rich console and logging set-up."""

from __future__ import annotations

import logging
import os
from typing import NoReturn

from rich.console import Console
from rich.logging import RichHandler

console = Console()
err_console = Console(stderr=True)


def configure_logging(verbose: bool) -> None:
    level = (
        logging.DEBUG
        if verbose
        else getattr(logging, os.environ.get("SHOPFLOW_LOG_LEVEL", "WARNING"))
    )
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False, rich_tracebacks=True)],
        force=True,
    )


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a plain error (no traceback) and leave with a non-zero exit code."""
    err_console.print(f"[bold red]error:[/] {message}")
    raise SystemExit(code)
