"""The landing zone: clickstream events and marketing spend files, read with dlt's filesystem.

Each file is listed by dlt's ``filesystem`` resource with an incremental cursor on its
modification time (ties broken by the whole file entry, i.e. the name): a file is read once
unless it changes. Content delivered twice does not double rows: events are immutable and
merge ``insert-only`` on ``event_id`` (an id already in the table is never inserted again,
a repeat inside one run is dropped before the load), spend merges on
``date, channel, campaign``. Files that cannot be parsed at all are
moved to the quarantine folder with a ``.reason`` file and recorded in ``quarantined_files``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
from dlt.extract.items import DataItemWithMeta
from dlt.extract.resource import DltResource
from dlt.sources.filesystem import FileItemDict, filesystem

from ingestion.settings import landing_dir as configured_landing_dir
from ingestion.sources.files.event_ids import SeenEventIds
from ingestion.sources.files.quarantine import read_landing_file
from ingestion.sources.files.read_ahead import EventsReadAhead, events_of
from ingestion.sources.files.settings import (
    EVENT_DECLARED_FIELDS,
    EVENT_SUFFIXES,
    EVENTS_GLOB,
    SPEND_GLOB,
    SPEND_KEY,
    SPEND_SUFFIXES,
)
from ingestion.sources.files.spend import spend_of
from ingestion.sources.load_files import CsvLoadFiles
from ingestion.sources.validation import RecordsInCounter

log = logging.getLogger(__name__)


@dlt.source(name="files")
def files_source(
    landing_dir: str | None = None, quarantine_dir: str | None = None
) -> list[DltResource]:
    """The landing zone as a dlt source: ``events`` and ``marketing_spend``.

    Args:
        landing_dir: The landing folder (default: ``SHOPFLOW_LANDING_DIR`` or data/landing).
        quarantine_dir: Where unreadable files go (default: ``quarantine/`` beside it).
    """
    landing = Path(landing_dir) if landing_dir else configured_landing_dir()
    quarantine = Path(quarantine_dir) if quarantine_dir else landing.parent / "quarantine"
    landing.mkdir(parents=True, exist_ok=True)
    listings = {
        name: filesystem(
            bucket_url=landing.as_uri(),
            file_glob=glob,
            incremental=dlt.sources.incremental("modification_date"),
        ).with_name(f"{name}_files")
        for name, glob in (("events", EVENTS_GLOB), ("marketing_spend", SPEND_GLOB))
    }
    return [
        (listings["events"] | events(quarantine_dir=str(quarantine), seen=SeenEventIds())).add_step(
            RecordsInCounter()
        ),
        (listings["marketing_spend"] | marketing_spend(quarantine_dir=str(quarantine))).add_step(
            RecordsInCounter()
        ),
    ]


@dlt.transformer(
    name="events",
    write_disposition={"disposition": "merge", "strategy": "insert-only"},
    primary_key="event_id",
    # handed over as UTC text (fast to write as csv); Postgres parses it on COPY
    columns={"timestamp": {"data_type": "timestamp", "timezone": True, "precision": 6}},
)
def events(
    files: list[FileItemDict], quarantine_dir: str, seen: SeenEventIds
) -> Iterator[DataItemWithMeta]:
    """Clickstream events (JSON lines or Parquet), inserted once per ``event_id``: events
    never change, so an id already loaded is skipped, not updated. They reach dlt in csv
    load files written here (``CsvLoadFiles``), which dlt imports as they are.

    ``user_identifiers`` and ``product_information`` become ``user_identifiers__platform``,
    ``product_information__sku`` and so on; ``source_file`` names the file each row came from.
    ``seen`` holds the ids this run has already carried (one per run, shared by every page
    of listed files).
    """
    load_files = CsvLoadFiles("events", declared=EVENT_DECLARED_FIELDS)
    with load_files, EventsReadAhead(files) as read_ahead:
        for item in files:
            yield from read_landing_file(
                item,
                "events",
                EVENT_SUFFIXES,
                Path(quarantine_dir),
                lambda path, name, resource: events_of(
                    read_ahead.chunks(path, name), resource, seen, load_files
                ),
            )
        yield from load_files.flush()


@dlt.transformer(
    name="marketing_spend",
    write_disposition="merge",
    primary_key=list(SPEND_KEY),
)
def marketing_spend(
    files: list[FileItemDict], quarantine_dir: str
) -> Iterator[list[dict[str, Any]] | DataItemWithMeta]:
    """Daily marketing spend per channel and campaign (CSV), merged on date+channel+campaign."""
    for item in files:
        yield from read_landing_file(
            item, "marketing_spend", SPEND_SUFFIXES, Path(quarantine_dir), spend_of
        )
