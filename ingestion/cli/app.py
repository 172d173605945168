"""The `shopflow` command: one CLI for the database, simulators, ingestion and dbt.

Each command's module is imported only when that command runs: they bring dlt, dbt,
pandas and psycopg2 with them, which would make `shopflow --help` take seconds. The
command list in `--help` reads each command's help from its module's source instead.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from dataclasses import dataclass
from typing import Any

import typer
from typer import _click as click  # typer vendors click: its groups hold these classes
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class LazyCommand:
    """A command named by where it lives: `attribute` of `module`, a command function or a
    `typer.Typer` (a command group)."""

    name: str
    module: str
    attribute: str

    def load(self) -> click.Command:
        """Import the module and build the click command typer would have built."""
        target = getattr(importlib.import_module(self.module), self.attribute)
        if isinstance(target, typer.Typer):
            command: click.Command = typer.main.get_group(target)
        else:
            single = typer.Typer(add_completion=False)
            single.command(name=self.name)(target)
            command = typer.main.get_command(single)
        command.name = self.name
        return command

    def help_text(self) -> str | None:
        """The command's help as typer would show it, read from the module's source without
        importing it: the function's docstring, or the `help=` given to `typer.Typer(...)`.
        None when it is not written literally there."""
        spec = importlib.util.find_spec(self.module)
        if spec is None or spec.origin is None:
            return None
        with open(spec.origin, encoding="utf-8") as source:
            tree = ast.parse(source.read())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == self.attribute:
                return ast.get_docstring(node)
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == self.attribute for t in node.targets)
                and isinstance(node.value, ast.Call)
            ):
                for keyword in node.value.keywords:
                    if keyword.arg == "help" and isinstance(keyword.value, ast.Constant):
                        return str(keyword.value.value)
        return None


# The commands, in the order `shopflow --help` lists them. A new command: one line here.
COMMANDS = (
    LazyCommand("ingest", "ingestion.cli.ingest", "ingest"),
    LazyCommand("run", "ingestion.cli.run", "run"),
    LazyCommand("retry", "ingestion.cli.run", "retry"),
    LazyCommand("ci-slim", "ingestion.cli.ci_slim", "ci_slim"),
    LazyCommand("check-project", "ingestion.cli.check_project", "check_project"),
    LazyCommand("status", "ingestion.cli.status", "status"),
    LazyCommand("report", "ingestion.cli.report", "report"),
    LazyCommand("export", "ingestion.cli.export", "export"),
    LazyCommand("docs", "ingestion.cli.docs", "docs"),
    LazyCommand("features", "ingestion.cli.features", "app"),
    LazyCommand("db", "ingestion.cli.db", "app"),
    LazyCommand("simulate", "ingestion.cli.simulate", "app"),
    LazyCommand("stream", "ingestion.cli.stream", "app"),
)


class _Placeholder(TyperCommand):
    """Stands for a command in the command list until that command is resolved to run."""


class LazyGroup(TyperGroup):
    """A typer group whose commands are `LazyCommand`s, loaded on first resolution."""

    lazy_commands: tuple[LazyCommand, ...] = COMMANDS

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._lazy = {command.name: command for command in self.lazy_commands}
        for command in self.lazy_commands:
            self.commands[command.name] = _Placeholder(command.name, help=command.help_text())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        if isinstance(command, _Placeholder) and command.help is None:
            # no literal help in the source: load it to list it correctly
            command = self.load(cmd_name)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and isinstance(self.commands.get(args[0]), _Placeholder):
            self.load(args[0])
        return super().resolve_command(ctx, args)

    def load(self, cmd_name: str) -> click.Command:
        """Replace the placeholder of `cmd_name` by the real command."""
        command = self._lazy[cmd_name].load()
        self.commands[cmd_name] = command
        return command


app = typer.Typer(
    cls=LazyGroup,
    help="ShopFlow Analytics: run and operate the ELT pipeline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main_options(
    context: typer.Context,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show debug logging."),
) -> None:
    from ingestion.cli.console import configure_logging
    from ingestion.cli.project_settings import resolve_settings

    configure_logging(verbose)
    # every setting resolved once, before any command starts work; commands take them with
    # project_settings()
    context.obj = resolve_settings()


def main() -> None:
    """The `shopflow` program. SIGTERM, SIGINT and SIGHUP stop any command the same way
    (ingestion/interrupts.py): installed here, once, for the program only (a
    test invoking ``app`` in its own process keeps its handlers)."""
    from ingestion.interrupts import RunInterrupted, install_signal_handlers

    install_signal_handlers()
    try:
        app()
    except RunInterrupted as exc:  # a signal outside a stage: nothing half-recorded to add
        from ingestion.cli.console import fail

        fail(f"shopflow {exc}; `shopflow status` shows what it had done.", code=exc.exit_code)
