"""`shopflow simulate ...`: build and advance the simulated source systems.

- ``ops``: the initial world (business year 2025) in the operations DB
- ``tick``: move the business clock forward N days (and drop that window's files)
- ``files``: (re)write the latest window's landing files, optionally with faults
- ``all``: ``ops`` then ``files``, the demo's starting point
- ``api``: serve the storefront API over the catalogue (see ``simulate_api.py``)
- ``stream``: publish live clickstream events to the broker (see ``simulate_stream.py``)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ingestion.cli.console import DataTable, console, fail
from ingestion.cli.project_settings import project_settings
from ingestion.cli.ready import ready_settings
from ingestion.cli.simulate_api import api
from ingestion.cli.simulate_stream import stream
from ingestion.settings import ConnectionSettings
from ingestion.simulators.world import (
    FileFaults,
    LandingDrop,
    WorldExistsError,
    WorldNotBuiltError,
    build_world,
    tick,
    write_landing_files,
)
from ingestion.simulators.world.build import BUILD_STEPS, WorldSummary
from ingestion.simulators.world.landing import clear_landing_files
from ingestion.simulators.world.tick import TICK_STEPS, TickSummary

log = logging.getLogger(__name__)

app = typer.Typer(
    help="Build and advance the simulated source systems (operations DB, files, API).",
    no_args_is_help=True,
)
app.command(name="api")(api)
app.command(name="stream")(stream)

SEED = typer.Option(42, "--seed", help="Seed: the same seed and scale give the same world.")
MIN_SCALE = 0.001
MAX_SCALE = 1000.0
"""1000: a million customers and five million orders, the largest world meant to be built."""
SCALE_RANGE = "give a size from 0.001 to 1000 (1 = 1,000 customers and 5,000 orders)"


def parse_scale(text: str) -> float:
    """``--scale``: a number from ``MIN_SCALE`` to ``MAX_SCALE``; anything else (empty, ``nan``,
    ``inf``, ``1e400``, ``-0``) is one sentence saying what it is and what to give instead."""
    try:
        value = float(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a number: {SCALE_RANGE}.") from None
    if math.isnan(value):
        raise typer.BadParameter(f"{text!r} is not a number (NaN): {SCALE_RANGE}.")
    if value > MAX_SCALE:
        raise typer.BadParameter(
            f"{text!r} is more than 1000, the largest world this project builds: {SCALE_RANGE}."
        )
    if value < MIN_SCALE:
        raise typer.BadParameter(
            f"{text!r} is less than 0.001, too small for a single customer: {SCALE_RANGE}."
        )
    return value


SCALE = typer.Option(
    1.0,
    "--scale",
    parser=parse_scale,
    help="Size multiplier (1 = 1,000 customers, 5,000 orders), from 0.001 to 1000.",
)
RESET = typer.Option(False, "--reset", help="Drop an existing world first (and its files).")
TRUNCATED_JSON = typer.Option(False, "--truncated-json", help="Cut one events line in half.")
WRONG_COLUMNS = typer.Option(False, "--wrong-columns", help="Rename the last spend file's columns.")
BAD_DATE = typer.Option(False, "--bad-date", help="Put an impossible date in a spend file.")
DUPLICATE_FILE = typer.Option(
    False, "--duplicate-file", help="Deliver the last events file twice (second name)."
)
LATE_FILE = typer.Option(
    False, "--late-file", help="Add an events file dated days before the last drop."
)


@contextmanager
def _steps(title: str, names: Sequence[str]) -> Iterator[Callable[[str], None]]:
    """A progress bar over named steps; yields the callback that starts each step."""
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(title, total=len(names))
        started: list[str] = []

        def on_step(name: str) -> None:
            if started:
                progress.advance(task)
            started.append(name)
            progress.update(task, description=f"{title}: {name}")

        yield on_step
        progress.update(task, completed=len(names))


def _table(title: str, rows: dict[str, object]) -> DataTable:
    table = DataTable(title=title)
    table.add_column("what")
    table.add_column("value", justify="right")
    for name, value in rows.items():
        table.add_row(name.replace("_", " "), str(value))
    return table


def _print_world(summary: WorldSummary) -> None:
    console.print(_table("simulated world (clock 2026-01-01T00:00:00Z)", vars(summary)))


def _print_drop(drop: LandingDrop, root: Path) -> None:
    console.print(
        f"Wrote {len(drop.event_files)} clickstream files ({drop.events:,} events) and "
        f"{len(drop.spend_files)} spend files ({drop.spend_rows:,} rows) under {root} "
        f"for {drop.window_start} .. {drop.window_end}."
    )
    for note in drop.faults:
        console.print(f"[yellow]fault[/] {note}")


def _faults(
    truncated_json: bool,
    wrong_columns: bool,
    bad_date: bool,
    duplicate_file: bool,
    late_file: bool,
) -> FileFaults:
    return FileFaults(
        truncated_json=truncated_json,
        wrong_columns=wrong_columns,
        bad_date=bad_date,
        duplicate_file=duplicate_file,
        late_file=late_file,
    )


def _build(settings: ConnectionSettings, seed: int, scale: float, reset: bool) -> WorldSummary:
    try:
        with _steps("building the world", BUILD_STEPS) as on_step:
            return build_world(settings, seed, scale, reset=reset, on_step=on_step)
    except WorldExistsError as exc:
        fail(str(exc))
        raise  # unreachable: fail() exits


@app.command()
def ops(seed: int = SEED, scale: float = SCALE, reset: bool = RESET) -> None:
    """Build the initial state: catalogue, customers, 2025's orders; clock at 2026-01-01."""
    settings = ready_settings()
    _print_world(_build(settings, seed, scale, reset))


@app.command()
def files(
    truncated_json: bool = TRUNCATED_JSON,
    wrong_columns: bool = WRONG_COLUMNS,
    bad_date: bool = BAD_DATE,
    duplicate_file: bool = DUPLICATE_FILE,
    late_file: bool = LATE_FILE,
) -> None:
    """(Re)write the landing files of the latest window (2025 after `ops`, else the last tick)."""
    landing = project_settings().landing_dir
    settings = ready_settings()
    faults = _faults(truncated_json, wrong_columns, bad_date, duplicate_file, late_file)
    try:
        with console.status("writing landing files"):
            drop = write_landing_files(settings, landing=landing, faults=faults)
    except WorldNotBuiltError as exc:
        fail(str(exc))
    _print_drop(drop, landing)


@app.command(name="tick")
def tick_command(
    days: int = typer.Option(1, "--days", min=1, help="Business days to move forward."),
    no_files: bool = typer.Option(False, "--no-files", help="Change the DB only, drop no files."),
    truncated_json: bool = TRUNCATED_JSON,
    wrong_columns: bool = WRONG_COLUMNS,
    bad_date: bool = BAD_DATE,
    duplicate_file: bool = DUPLICATE_FILE,
    late_file: bool = LATE_FILE,
) -> None:
    """Advance the business clock N days, then drop that window's landing files.

    Within the window: new customers, orders and marketplace sales; orders move along their
    status paths; some customers move or change e-mail; some prices change, the odd product
    is delisted; a few customers are erased.
    """
    landing = project_settings().landing_dir
    settings = ready_settings()
    faults = _faults(truncated_json, wrong_columns, bad_date, duplicate_file, late_file)
    try:
        with _steps(f"tick {days} day(s)", TICK_STEPS) as on_step:
            summary: TickSummary = tick(
                settings,
                days,
                write_files=not no_files,
                faults=faults,
                on_step=on_step,
                landing=landing,
            )
    except WorldNotBuiltError as exc:
        fail(str(exc))
    rows = {k: v for k, v in vars(summary).items() if k != "files"}
    console.print(_table(f"tick {summary.tick}", rows))
    if summary.files is not None:
        _print_drop(summary.files, landing)


@app.command(name="all")
def all_sources(seed: int = SEED, scale: float = SCALE, reset: bool = RESET) -> None:
    """The demo's starting point: `ops` then `files` (no faults)."""
    landing = project_settings().landing_dir
    settings = ready_settings()
    if reset:
        removed = clear_landing_files(landing)
        log.info("removed %d landing files of the previous world", removed)
    _print_world(_build(settings, seed, scale, reset))
    with console.status("writing landing files"):
        drop = write_landing_files(settings, landing=landing)
    _print_drop(drop, landing)
