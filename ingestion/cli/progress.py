"""Progress: the ingestion's display (one line per load unit, on a terminal), and a heartbeat
line every 30 s for any long stage when the output is piped into a file."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from ingestion.cli.console import console
from ingestion.loading.accounting import UnitResult
from ingestion.loading.registry import LoadUnit


class ProgressObserver:
    """Shows one line per load unit: a spinner while it loads, its counts when done."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._tasks: dict[tuple[str, str], TaskID] = {}
        self.results: list[UnitResult] = []

    def unit_started(self, source: str, unit: LoadUnit) -> None:
        """Add a running line for the unit (the same line again when it is run once more,
        one by one after its tables failed to load together)."""
        if self._progress is None:
            return
        description = f"{source} · {unit.table}: loading"
        task = self._tasks.get((source, unit.table))
        if task is not None:
            self._progress.update(task, description=description)
        else:
            self._tasks[(source, unit.table)] = self._progress.add_task(description, total=None)

    def unit_finished(self, result: UnitResult) -> None:
        """Turn the unit's line into its outcome."""
        self.results.append(result)
        if self._progress is None:
            return
        task = self._tasks[(result.source, result.table)]
        outcome = (
            f"[green]{result.rows_loaded:,} rows[/]"
            if result.status == "ok"
            else f"[bold red]failed[/]: {result.error}"
        )
        self._progress.update(
            task, description=f"{result.source} · {result.table}: {outcome}", total=1, completed=1
        )


@contextmanager
def ingest_progress() -> Iterator[ProgressObserver]:
    """An observer of the ingestion, with a live display while a person watches a terminal;
    in a file a heartbeat line every 30 s, and the summary table afterwards says it all."""
    if not console.is_terminal:
        with heartbeat("ingest"):
            yield ProgressObserver(None)
        return
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as progress:
        yield ProgressObserver(progress)


HEARTBEAT_SECONDS = 30.0


@contextmanager
def heartbeat(label: str, every: float | None = None) -> Iterator[None]:
    """While the block runs, a line ``<label>: still working after 90 s`` every ``every``
    seconds (default ``HEARTBEAT_SECONDS``), so a log file or a CI job shows a long stage is
    alive rather than nothing for minutes. For piped output: on a terminal the live displays
    say it."""
    stop = threading.Event()
    started = time.monotonic()
    period = HEARTBEAT_SECONDS if every is None else every

    def beat() -> None:
        while not stop.wait(period):
            elapsed = time.monotonic() - started
            console.print(f"{label}: still working after {elapsed:.0f} s", markup=False)

    thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def working(label: str, description: str) -> AbstractContextManager[object]:
    """While a long step works: a spinner with its description on a terminal, the heartbeat
    when piped."""
    if console.is_terminal:
        return console.status(f"{label}: {description}")
    return heartbeat(label)
