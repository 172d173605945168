"""The landing zone: clickstream events and marketing spend files.

Each resource lists its sub-folder and reads the files it has not read as they are now:
files are tracked by name and content in the resource's dlt state (``tracking``), so a new
file is read whatever its modification time, a rewritten one again, an unchanged or merely
touched one never. Content delivered twice does not double rows: events are immutable and
merge ``insert-only`` on ``event_id`` (an id already in the table is never inserted again,
a repeat inside one run is dropped before the load), spend merges on
``date, channel, campaign`` (a key repeated within one file is rejected after its first
row). A row Postgres would refuse (``storable``) or that fails validation becomes a rejected
record naming its file and line; files that cannot be parsed at all are moved to the
quarantine folder with a ``.reason`` file and recorded in ``quarantined_files``.

Readers bound their input (``bounds``: line length, nesting depth, keys, text length, columns)
and name the bound in every reason; keys outside the documented event shape land in one
``extra_properties`` column; only regular files inside the landing folder are opened
(``landing_boundary``); a file a reader crashed on is quarantined by the next run instead of
being read again (``reading_marker``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
from dlt.extract.items import DataItemWithMeta
from dlt.extract.resource import DltResource

from ingestion.sources.files.event_ids import SeenEventIds
from ingestion.sources.files.landing_boundary import landing_problem
from ingestion.sources.files.quarantine import LoadItem, read_landing_file
from ingestion.sources.files.read_ahead import EventsReadAhead, events_of
from ingestion.sources.files.reading_marker import ReadingMarker
from ingestion.sources.files.settings import (
    EVENT_DECLARED_FIELDS,
    EVENT_SUFFIXES,
    EVENTS_GLOB,
    SPEND_GLOB,
    SPEND_KEY,
    SPEND_SUFFIXES,
)
from ingestion.sources.files.spend import spend_reader
from ingestion.sources.files.tracking import LandingFile, LandingTracker, remember_read
from ingestion.sources.load_files import CsvLoadFiles
from ingestion.sources.validation import RecordsInCounter

log = logging.getLogger(__name__)


class LandingFolderError(ValueError):
    """The landing folder cannot be used as one; the message says what to do."""


@dlt.source(name="files")
def files_source(landing_dir: str, quarantine_dir: str) -> list[DltResource]:
    """The landing zone as a dlt source: ``events`` and ``marketing_spend``.

    Args:
        landing_dir: The landing folder (``Settings.landing_dir``).
        quarantine_dir: Where unreadable files go (``Settings.quarantine_dir``).
    """
    landing = Path(landing_dir)
    quarantine = Path(quarantine_dir)
    if (problem := landing_problem(landing)) is not None:
        raise LandingFolderError(problem)
    landing.mkdir(parents=True, exist_ok=True)
    return [
        events(str(landing), str(quarantine), SeenEventIds()).add_step(RecordsInCounter()),
        marketing_spend(str(landing), str(quarantine)).add_step(RecordsInCounter()),
    ]


def _files_to_read(
    resource: str, landing_dir: str, glob: str, marker: ReadingMarker
) -> tuple[LandingTracker, list[LandingFile]]:
    """The resource's tracker and the landing files it has not read as they are now; the
    file a reader crashed on in an earlier run comes back refused (``reading_marker``)."""
    # the modification-time cursor of the listing resource of earlier versions is obsolete
    dlt.current.source_state().get("resources", {}).pop(f"{resource}_files", None)
    tracker = LandingTracker(dlt.current.resource_state(), Path(landing_dir), glob)
    files = tracker.to_read()
    crashed = marker.left_by_crash()
    if crashed is not None:
        name, reason = crashed
        files = [
            dataclasses.replace(file, refused=file.refused or reason) if file.name == name else file
            for file in files
        ]
    return tracker, files


@dlt.resource(
    name="events",
    write_disposition={"disposition": "merge", "strategy": "insert-only"},
    primary_key="event_id",
    # handed over as UTC text (fast to write as csv); Postgres parses it on COPY
    columns={"timestamp": {"data_type": "timestamp", "timezone": True, "precision": 6}},
)
def events(landing_dir: str, quarantine_dir: str, seen: SeenEventIds) -> Iterator[LoadItem]:
    """Clickstream events (JSON lines or Parquet) of the new and changed files under
    ``clickstream/``, inserted once per ``event_id``: events never change, so an id already
    loaded is skipped, not updated. They reach dlt in csv load files written here
    (``CsvLoadFiles``), which dlt imports as they are.

    ``user_identifiers`` and ``product_information`` become ``user_identifiers__platform``,
    ``product_information__sku`` and so on; ``source_file`` names the file each row came from.
    ``seen`` holds the ids this run has already carried.
    """
    marker = ReadingMarker(Path(quarantine_dir), "events")
    tracker, files = _files_to_read("events", landing_dir, EVENTS_GLOB, marker)
    load_files = CsvLoadFiles("events", declared=EVENT_DECLARED_FIELDS)
    with marker, load_files, EventsReadAhead(files, marker) as read_ahead:
        for file in remember_read(tracker, files):
            yield from read_landing_file(
                file,
                "events",
                EVENT_SUFFIXES,
                Path(quarantine_dir),
                lambda path, name, resource: events_of(
                    read_ahead.chunks(path, name), resource, seen, load_files
                ),
            )
        yield from load_files.flush()


@dlt.resource(
    name="marketing_spend",
    write_disposition="merge",
    primary_key=list(SPEND_KEY),
)
def marketing_spend(
    landing_dir: str, quarantine_dir: str
) -> Iterator[list[dict[str, Any]] | DataItemWithMeta]:
    """Daily marketing spend per channel and campaign (CSV or Parquet) of the new and changed
    files under ``marketing_spend/``, merged on date+channel+campaign."""
    marker = ReadingMarker(Path(quarantine_dir), "marketing_spend")
    tracker, files = _files_to_read("marketing_spend", landing_dir, SPEND_GLOB, marker)
    with marker:
        for file in remember_read(tracker, files):
            yield from read_landing_file(
                file, "marketing_spend", SPEND_SUFFIXES, Path(quarantine_dir), spend_reader(marker)
            )
