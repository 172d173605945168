"""The terminal output shared by every command: a rich console and logging set-up.

On a terminal, output is coloured and fitted to its width. Piped into a file (cron mail, CI
logs), it carries no escape codes and is never cut at 80 columns: tables are printed at their
full width and headings as plain lines.
"""

from __future__ import annotations

import logging
import sys
from typing import NoReturn

from rich.console import Console
from rich.logging import RichHandler
from rich.text import Text

from ingestion.settings import log_level

PIPED_WIDTH = 1000
"""The width given to rich when the output is not a terminal: wide enough that no table or
message of ours is cut or folded (rich then prints tables at their natural width)."""


def _console(stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=PIPED_WIDTH, no_color=True, highlight=False)


console = _console(stderr=False)
err_console = _console(stderr=True)


def heading(text: str) -> None:
    """A section heading: a rule on a terminal, a plain ``== text`` line in a file."""
    if console.is_terminal:
        console.rule(text)
    else:
        console.print(f"== {text}")


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else log_level(),
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False, rich_tracebacks=True)],
        force=True,
    )


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a plain error (no traceback) and leave with a non-zero exit code."""
    # a Text, not markup: a message with [brackets] (a dbt node, a file list) prints as is
    err_console.print(Text.assemble(("error:", "bold red"), " ", message))
    raise SystemExit(code)
