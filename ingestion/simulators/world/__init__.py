"""The simulated operations DB, storefront catalogue and landing-zone files.

- ``build_world(settings, seed, scale)``: the initial state (business year 2025).
- ``tick(settings, days)``: moves the business clock forward, changing the world.
- ``write_landing_files(settings, faults=...)``: the latest window's clickstream and
  marketing-spend files.

The contract these implement is ``docs/source-systems.md``; the DDL is ``schema.sql``.
"""

from ingestion.simulators.world.build import WorldSummary, build_world
from ingestion.simulators.world.landing import FileFaults, LandingDrop, write_landing_files
from ingestion.simulators.world.sim_state import (
    Clock,
    WorldExistsError,
    WorldNotBuiltError,
    read_world_clock,
)
from ingestion.simulators.world.tick import TickSummary, tick

__all__ = [
    "Clock",
    "FileFaults",
    "LandingDrop",
    "TickSummary",
    "WorldExistsError",
    "WorldNotBuiltError",
    "WorldSummary",
    "build_world",
    "read_world_clock",
    "tick",
    "write_landing_files",
]
