"""The ingestion's progress display: one line per load unit, shown on a terminal only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
    """An observer of the ingestion, with a live display while a person watches a terminal
    (in a file the summary table afterwards says it all)."""
    if not console.is_terminal:
        yield ProgressObserver(None)
        return
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as progress:
        yield ProgressObserver(progress)
