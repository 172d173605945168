"""What one source's part of an ingestion is, and who is told about its progress: the types
the runner (``runner``) and the full refresh (``refresh``) both work with, kept apart so that
neither has to import the other."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

from ingestion.loading.accounting import UnitResult
from ingestion.loading.registry import LoadUnit


class IngestObserver(Protocol):
    """Told about progress (the CLI shows it with rich)."""

    def unit_started(self, source: str, unit: LoadUnit) -> None:
        """A unit starts loading."""

    def unit_finished(self, result: UnitResult) -> None:
        """A unit finished (successfully or not)."""


@dataclass
class SourceRun:
    """One source's part of an ingestion run."""

    source: str
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    units: list[UnitResult] = field(default_factory=list)
    reader_note: str | None = None
    """What the source's shared reader says of this run (the log reader: why it copied every
    table again, on a resync)."""

    @property
    def status(self) -> str:
        """``ok`` when every unit loaded, else ``failed``."""
        return "failed" if any(u.status != "ok" for u in self.units) else "ok"

    @property
    def error(self) -> str | None:
        """The errors of the failed units, one per line."""
        errors = [f"{u.table}: {u.error}" for u in self.units if u.error]
        return "\n".join(errors) or None

    def total(self, attribute: str) -> int:
        """A unit attribute summed over the units."""
        return sum(int(getattr(u, attribute)) for u in self.units)

    @property
    def cursor_notes(self) -> str | None:
        """What the reader said, and what the cursors flagged and the reconciliation repaired,
        per table, or None."""
        notes = [self.reader_note] if self.reader_note else []
        notes += [
            f"{u.table}: {count} {what}"
            for u in self.units
            for count, what in (
                (u.rows_future_stamped, "row(s) stamped after the source's clock, flagged"),
                (u.rows_repaired, "row(s) the cursor missed, repaired"),
            )
            if count
        ]
        return "; ".join(notes) or None
