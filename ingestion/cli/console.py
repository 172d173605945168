"""The terminal output shared by every command: a rich console and logging set-up.

On a terminal, output is coloured and fitted to its width. Piped into a file (cron mail, CI
logs), it carries no escape codes and is never cut at 80 columns: tables are printed at their
full width and headings as plain lines.
"""

from __future__ import annotations

import io
import logging
import sys
import textwrap
from typing import Any, NoReturn, TextIO, cast

from rich.console import Console, RenderableType
from rich.logging import RichHandler
from rich.table import Table
from rich.text import Text

from ingestion.settings import log_level

PIPED_WIDTH = 1000
"""The width given to rich when the output is not a terminal: wide enough that no table or
message of ours is cut or folded (rich then prints tables at their natural width)."""


class TrimmedLines(io.TextIOBase):
    """A piped stream whose lines lose their trailing spaces: at ``PIPED_WIDTH`` rich pads a
    centred table title (or any justified text) to the full width, which a log file keeps."""

    def __init__(self, stderr: bool) -> None:
        self.stderr = stderr
        self.pending = ""

    @property
    def stream(self) -> TextIO:
        """The process's stream at the moment of writing (a test may have replaced it)."""
        return sys.stderr if self.stderr else sys.stdout

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            self.stream.write(line.rstrip() + "\n")
        return len(text)

    def flush(self) -> None:
        """Rich flushes after each print, whose text ends in a new line: a part line (a print
        with ``end=""``) goes out as it is."""
        if self.pending:
            self.stream.write(self.pending)
            self.pending = ""
        self.stream.flush()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]  # TextIOBase declares it read-only
        return getattr(self.stream, "encoding", "utf-8")


def _console(stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr)
    return Console(
        file=cast(TextIO, TrimmedLines(stderr)), width=PIPED_WIDTH, no_color=True, highlight=False
    )


console = _console(stderr=False)
err_console = _console(stderr=True)


def heading(text: str) -> None:
    """A section heading: a rule on a terminal, a plain ``== text`` line in a file."""
    if console.is_terminal:
        console.rule(text)
    else:
        console.print(f"== {text}")


PIPED_LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"
PIPED_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


def configure_logging(verbose: bool) -> None:
    """Log records on stderr: rich's columns on a terminal; piped, one plain line per record
    (time, level, message), as long as its message and never padded (rich pads every line to
    the console's width, which is ``PIPED_WIDTH`` there)."""
    handler: logging.Handler
    if err_console.is_terminal:
        handler = RichHandler(console=err_console, show_path=False, rich_tracebacks=True)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(PIPED_LOG_FORMAT, PIPED_TIME_FORMAT))
    logging.basicConfig(
        level=logging.DEBUG if verbose else log_level(), handlers=[handler], force=True
    )


def styled(value: str, style: str | None) -> Text:
    """A cell or word shown in a style, its text never read as markup."""
    return Text(value, style=style or "")


class DataTable(Table):
    """A table whose text cells and title are data, never rich markup: a stored detail such
    as ``[/b]`` or ``[link=http://...]x[/link]`` (a file name, a source's value, an error)
    prints as written instead of crashing the print or hiding a link behind other words."""

    def __init__(self, *headers: Any, title: str | None = None, **options: Any) -> None:
        super().__init__(*headers, title=None if title is None else Text(title), **options)
        self.plain_title = title or ""
        self.plain_rows: list[list[str]] = []

    def as_lines(self, width: int) -> list[str]:
        """The table as plain lines of at most ``width`` characters, for a narrow piped
        output: its title, then one entry per row (``header: value; ...``), wrapped, each
        continuation indented. Nothing is cut."""
        headers = [str(column.header) for column in self.columns]
        lines = textwrap.wrap(self.plain_title, width, subsequent_indent="  ")
        for row in self.plain_rows:
            entry = "; ".join(f"{h}: {v}" for h, v in zip(headers, row, strict=True) if v)
            lines += textwrap.wrap(
                entry, width, initial_indent="- ", subsequent_indent="  ", break_on_hyphens=False
            ) or ["-"]
        return lines

    def add_row(
        self,
        *renderables: RenderableType | None,
        style: Any = None,
        end_section: bool = False,
    ) -> None:
        cells = [Text(cell) if isinstance(cell, str) else cell for cell in renderables]
        self.plain_rows.append(
            [
                cell.plain if isinstance(cell, Text) else "" if cell is None else str(cell)
                for cell in cells
            ]
        )
        super().add_row(*cells, style=style, end_section=end_section)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a plain error (no traceback) and leave with a non-zero exit code."""
    # a Text, not markup: a message with [brackets] (a dbt node, a file list) prints as is
    err_console.print(Text.assemble(("error:", "bold red"), " ", message))
    raise SystemExit(code)
