"""Landing-zone files of the latest build or tick window, with optional faults.

Layout under the landing folder (``ingestion.settings.landing_dir()`` by default):

- ``clickstream/events_<YYYYMMDD>_<n>.jsonl``: one file per 7-day slice of the window
  (``YYYYMMDD`` = the slice's first day, ``n`` = 1); a whole session lands in the file of
  the slice its purchase (or, if abandoned, its start) falls in.
- ``marketing_spend/spend_<YYYYMMDD>.csv``: one file per day of the window.

Writing the same window again gives the same files (same names, same bytes). Faults, all
off by default, bend the drop the way real deliveries go wrong:

- ``truncated_json``: one line of the last events file is cut in half;
- ``wrong_columns``: the last spend file has renamed columns;
- ``bad_date``: one row of the first spend file has an impossible date (``YYYY-02-30``);
- ``duplicate_file``: the last events file is delivered again as ``..._2.jsonl``;
- ``late_file``: ``..._3.jsonl`` (named for the last slice) holds abandoned-session events
  dated 2 to 6 days before that slice started.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from ingestion.settings import ConnectionSettings, landing_dir
from ingestion.simulators.world.bulk_io import Cursor, read_frame
from ingestion.simulators.world.clickstream import (
    ABANDONED_SESSIONS_PER_ORDER,
    abandoned_events,
    json_lines,
    json_titles,
    order_events,
    with_event_ids,
)
from ingestion.simulators.world.marketing_spend import SPEND_COLUMNS, daily_spend
from ingestion.simulators.world.orders import popularity
from ingestion.simulators.world.randomness import Stream, generator
from ingestion.simulators.world.reference_data import DAY, MARKETING_CAMPAIGNS
from ingestion.simulators.world.sim_state import (
    Clock,
    latest_window,
    ops_transaction,
    require_clock,
)
from ingestion.simulators.world.timestamps import compact_date, to_datetime

log = logging.getLogger(__name__)

CLICKSTREAM_DIR = "clickstream"
SPEND_DIR = "marketing_spend"
SLICE_DAYS = 7
WRONG_SPEND_COLUMNS = (
    "day",
    "channel",
    "campaign_name",
    "cost",
    "currency",
    "impressions",
    "clicks",
)
LATE_DAYS = (2, 6)


@dataclass(frozen=True)
class FileFaults:
    """Which faults to put into a drop (all off by default)."""

    truncated_json: bool = False
    wrong_columns: bool = False
    bad_date: bool = False
    duplicate_file: bool = False
    late_file: bool = False

    def enabled(self) -> tuple[str, ...]:
        """Names of the faults switched on."""
        return tuple(f.name for f in fields(self) if getattr(self, f.name))


@dataclass(frozen=True)
class LandingDrop:
    """What one drop wrote (paths relative to the landing folder)."""

    tick: int
    window_start: str
    window_end: str
    event_files: tuple[str, ...]
    spend_files: tuple[str, ...]
    events: int
    spend_rows: int
    faults: tuple[str, ...]
    """One line per fault put in, saying where."""


class _DropWindow(NamedTuple):
    seed: int
    scale: float
    tick: int
    start: int
    end: int


@dataclass(frozen=True)
class LandingSources:
    """What the clickstream is generated from: a window's web/app order lines, the customers
    registered by its end, the catalogue (also read by the live stream: ``live_clickstream``)."""

    lines: pd.DataFrame
    customers: pd.DataFrame
    products: pd.DataFrame


def read_sources(cur: Cursor, start: int, end: int) -> LandingSources:
    lines = read_frame(
        cur,
        "select o.order_id, o.customer_id, o.channel, "
        "extract(epoch from o.ordered_at)::bigint as ordered_at, i.sku "
        "from ops.orders as o inner join ops.order_items as i on i.order_id = o.order_id "
        "where o.channel in ('web', 'app') and o.customer_id is not null "
        "and o.ordered_at >= to_timestamp(%(start)s) and o.ordered_at < to_timestamp(%(end)s) "
        "order by o.order_id, i.line_number",
        {"start": start, "end": end},
        dtypes={"order_id": "int64", "customer_id": "int64", "ordered_at": "int64"},
    )
    customers = read_frame(
        cur,
        "select customer_id, extract(epoch from registered_at)::bigint as registered_at "
        "from ops.customers where registered_at < to_timestamp(%(end)s) order by customer_id",
        {"end": end},
        dtypes={"customer_id": "int64", "registered_at": "int64"},
    )
    products = read_frame(
        cur,
        "select product_id, sku, title, is_deleted::int as is_deleted "
        "from storefront.products order by product_id",
        dtypes={"product_id": "int64", "is_deleted": bool, "title": object, "sku": object},
    )
    return LandingSources(lines=lines, customers=customers, products=products)


def _write_text(path: Path, text: str) -> None:
    """Write a file so that readers never see it half-written (temp name, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def browsing(seed: int, products: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The listed SKUs and how likely each is viewed (the world's fixed popularity)."""
    listed = products.loc[~products["is_deleted"]]
    weights = popularity(seed, listed["product_id"].to_numpy())
    return listed["sku"].to_numpy(dtype=object), weights / weights.sum()


def write_landing_files(
    settings: ConnectionSettings,
    *,
    faults: FileFaults | None = None,
    landing: Path | None = None,
) -> LandingDrop:
    """Write the clickstream and marketing-spend files of the latest window (see module doc)."""
    faults = faults or FileFaults()
    root = landing or landing_dir()
    with ops_transaction(settings) as cur:
        clock = require_clock(cur)
        tick, start, end = latest_window(cur)
        sources = read_sources(cur, start, end)
    return _write_drop(root, clock, tick, start, end, sources, faults)


def _write_drop(
    root: Path,
    clock: Clock,
    tick: int,
    start: int,
    end: int,
    sources: LandingSources,
    faults: FileFaults,
) -> LandingDrop:
    """Generate the window's events and spend, put the faults in, and write the files."""
    rng = generator(clock.seed, tick, Stream.CLICKSTREAM)
    titles = json_titles(dict(zip(sources.products["sku"], sources.products["title"], strict=True)))
    browse_skus, browse_p = browsing(clock.seed, sources.products)
    orders = sources.lines["order_id"].nunique()
    abandoned = int(rng.poisson(ABANDONED_SESSIONS_PER_ORDER * max(orders, 1)))
    events = pd.concat(
        [
            order_events(rng, sources.lines, browse_skus, browse_p),
            abandoned_events(rng, sources.customers, browse_skus, browse_p, abandoned, start, end),
        ],
        ignore_index=True,
    )
    events = with_event_ids(rng, events)
    slice_seconds = SLICE_DAYS * DAY
    slices = max(1, -(-(end - start) // slice_seconds))
    slice_index = np.clip((events["anchor"].to_numpy() - start) // slice_seconds, 0, slices - 1)
    fault_rng = generator(clock.seed, tick, Stream.FAULTS)
    notes: list[str] = []

    event_files: list[str] = []
    last_lines: list[str] = []
    for index in range(slices):
        lines = json_lines(events.loc[slice_index == index], titles)
        name = f"{CLICKSTREAM_DIR}/events_{compact_date(start + index * slice_seconds)}_1.jsonl"
        if index == slices - 1:
            last_lines = lines
            if faults.truncated_json and lines:
                row = int(fault_rng.integers(len(lines) // 4, len(lines) * 3 // 4 + 1))
                row = min(row, len(lines) - 1)
                lines = [*lines[:row], lines[row][: len(lines[row]) // 2], *lines[row + 1 :]]
                last_lines = lines
                notes.append(f"truncated_json: line {row + 1} of {name} cut in half")
        _write_text(root / name, "".join(f"{line}\n" for line in lines))
        event_files.append(name)
    last_slice = start + (slices - 1) * slice_seconds
    if faults.duplicate_file:
        name = f"{CLICKSTREAM_DIR}/events_{compact_date(last_slice)}_2.jsonl"
        _write_text(root / name, "".join(f"{line}\n" for line in last_lines))
        event_files.append(name)
        notes.append(f"duplicate_file: {name} repeats {event_files[slices - 1]}")
    if faults.late_file:
        late = abandoned_events(
            fault_rng,
            sources.customers,
            browse_skus,
            browse_p,
            max(5, abandoned // (slices * 20)),
            last_slice - LATE_DAYS[1] * DAY,
            last_slice - LATE_DAYS[0] * DAY,
        )
        name = f"{CLICKSTREAM_DIR}/events_{compact_date(last_slice)}_3.jsonl"
        late_lines = json_lines(with_event_ids(fault_rng, late), titles)
        _write_text(root / name, "".join(f"{line}\n" for line in late_lines))
        event_files.append(name)
        notes.append(
            f"late_file: {name} holds {len(late_lines)} events dated {LATE_DAYS[0]}-"
            f"{LATE_DAYS[1]} days before {to_datetime(last_slice).date()}"
        )

    spend_files, spend_rows = _write_spend(
        root, _DropWindow(clock.seed, clock.scale, tick, start, end), faults, fault_rng, notes
    )
    drop = LandingDrop(
        tick=tick,
        window_start=to_datetime(start).isoformat(),
        window_end=to_datetime(end).isoformat(),
        event_files=tuple(event_files),
        spend_files=spend_files,
        events=len(events),
        spend_rows=spend_rows,
        faults=tuple(notes),
    )
    log.info("landing drop of tick %d: %d events, %d spend rows", tick, drop.events, spend_rows)
    return drop


def _write_spend(
    root: Path,
    window: _DropWindow,
    faults: FileFaults,
    fault_rng: np.random.Generator,
    notes: list[str],
) -> tuple[tuple[str, ...], int]:
    """One spend CSV per day of the window; returns the file names and the row count."""
    seed, scale, tick, start, end = window
    day_starts = np.arange(start - start % DAY, end, DAY, dtype=np.int64)
    spend = daily_spend(generator(seed, tick, Stream.MARKETING_SPEND), day_starts, scale)
    per_day = len(MARKETING_CAMPAIGNS)
    names = []
    for index, day in enumerate(day_starts):
        day_rows = spend.iloc[index * per_day : (index + 1) * per_day].copy()
        name = f"{SPEND_DIR}/spend_{compact_date(int(day))}.csv"
        header = list(SPEND_COLUMNS)
        if faults.bad_date and index == 0:
            row = int(fault_rng.integers(0, len(day_rows)))
            bad = f"{day_rows['date'].iloc[row][:4]}-02-30"
            day_rows.iloc[row, day_rows.columns.get_loc("date")] = bad
            notes.append(f"bad_date: row {row + 1} of {name} has date {bad}")
        if faults.wrong_columns and index == len(day_starts) - 1:
            header = list(WRONG_SPEND_COLUMNS)
            notes.append(f"wrong_columns: {name} has header {','.join(header)}")
        _write_text(root / name, day_rows.to_csv(index=False, header=header, lineterminator="\n"))
        names.append(name)
    return tuple(names), len(spend)


def clear_landing_files(root: Path) -> int:
    """Remove the files this simulator writes (and nothing else) from a landing folder."""
    removed = 0
    for pattern in (f"{CLICKSTREAM_DIR}/events_*.jsonl", f"{SPEND_DIR}/spend_*.csv"):
        for path in root.glob(pattern):
            path.unlink()
            removed += 1
    return removed
