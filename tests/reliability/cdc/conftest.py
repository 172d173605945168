"""The world every change data capture test module starts from: small, copied once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingestion.settings import OPS_CAPTURE_CDC, ConnectionSettings
from tests.integration.ingest_support import IngestWorld, simulated_world
from tests.reliability.cdc.parity import WORLD_SCALE, rows_loaded


@pytest.fixture(scope="module")
def world(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IngestWorld]:
    """A world of the module's own whose initial copy from the log loaded; the module's tests
    take turns changing it, each leaving raw equal to the source."""
    with simulated_world(server_settings, tmp_path_factory.mktemp("cdc"), WORLD_SCALE) as made:
        rows_loaded(made.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
        yield made
