"""What `shopflow run`'s first stage does with the simulated sources."""

from __future__ import annotations

import logging
from pathlib import Path

from ingestion.settings import ConnectionSettings
from ingestion.simulators.world.build import build_world
from ingestion.simulators.world.landing import write_landing_files
from ingestion.simulators.world.sim_state import read_world_clock
from ingestion.simulators.world.tick import tick
from ingestion.simulators.world.timestamps import to_datetime

log = logging.getLogger(__name__)


def prepare_sources(
    settings: ConnectionSettings,
    seed: int = 42,
    scale: float = 1.0,
    tick_days: int = 0,
    landing: Path | None = None,
) -> str:
    """Make sure the simulated sources exist, their files dropped in ``landing`` (the run's
    landing folder); returns a one-line summary of what it did.

    - no world yet (no ``sim.clock`` row): build it with ``seed`` and ``scale`` and write the
      2025 landing files;
    - a world exists and ``tick_days > 0``: advance it that many days (with that window's
      files);
    - otherwise: leave the sources as they are.
    """
    clock = read_world_clock(settings)
    if clock is None:
        world = build_world(settings, seed, scale)
        drop = write_landing_files(settings, landing=landing)
        return (
            f"built world seed={seed} scale={scale:g}: {world.customers:,} customers, "
            f"{world.orders:,} orders, {drop.events:,} events; clock 2026-01-01"
        )
    if tick_days > 0:
        summary = tick(settings, tick_days, landing=landing)
        return (
            f"tick {summary.tick} (+{tick_days}d): {summary.new_orders:,} new orders, "
            f"{summary.order_status_changes:,} status changes; clock {summary.window_end}"
        )
    return (
        f"sources unchanged (seed={clock.seed} scale={clock.scale:g}, "
        f"clock {to_datetime(clock.business_time).isoformat()})"
    )
