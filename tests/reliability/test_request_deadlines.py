"""No storefront request outlives its deadline: a dripping or silent API cannot hold the ingest.

A proxy on 127.0.0.1 (``tests/drip_server.py``) stands between the client and the
simulated storefront API of a small world and answers slowly on purpose: headers a byte at a
time, the body a byte at a time, headers then silence, or nothing at all. Every case ingests
the storefront for real (in process, as ``shopflow ingest storefront`` does) with a 1 s
deadline and 2 attempts, and checks that the ingest ends within seconds (the drip alone would
take minutes), that each table fails with one sentence naming the URL and the deadline (never
the API key), that the proxy saw its connections cut, and that nothing was loaded. The last
cases compare the raw tables with a clean ingest of an identical world.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingestion.loading.accounting import UnitResult
from ingestion.loading.registry import StorefrontEndpoint
from ingestion.loading.runner import IngestReport
from ingestion.settings import REPO_ROOT, ConnectionSettings
from ingestion.simulators.storefront_api import ApiConfig, running_api
from tests.drip_server import Drip, drip_server
from tests.integration.ingest_support import IngestWorld, simulated_world
from tests.reliability.support import CliWorld, Digest, shopflow_command, warehouse_digest

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

SCALE = 0.05
DEADLINE_SECONDS = 1
ATTEMPTS = 2
FAST_REQUESTS = {
    "SOURCES__STOREFRONT__REQUEST_DEADLINE_SECONDS": str(DEADLINE_SECONDS),
    "SOURCES__STOREFRONT__REQUEST_MAX_ATTEMPTS": str(ATTEMPTS),
    "SOURCES__STOREFRONT__REQUEST_RETRY_BUDGET_SECONDS": "10",
    "SOURCES__STOREFRONT__REQUEST_BACKOFF_FACTOR": "0.05",
    "SOURCES__STOREFRONT__PRODUCTS_PAGE_SIZE": "7",
}
"""A 1 s deadline, two attempts and short waits: each failing table gives up in about 2 s.
The read timeout stays at its 10 s default, so only the deadline can end these cases early."""
GIVE_UP_SECONDS = 25.0
"""A faulted ingest (both tables, 2 attempts of 1 s each, plus dlt's own work) ends before
this; any drip here would hold it for minutes, and silence for 2 read timeouts per table."""


@dataclass
class Served:
    """A world's storefront API behind the dripping proxy."""

    world: IngestWorld
    drip: Drip
    endpoint: StorefrontEndpoint
    api_key: str

    def ingest(self) -> tuple[IngestReport, float]:
        started = time.monotonic()
        report = self.world.ingest("storefront", endpoint=self.endpoint)
        return report, time.monotonic() - started


def raw(world: IngestWorld) -> Digest:
    """The raw storefront tables holding rows (a failed run may leave an empty one behind)."""
    digest = warehouse_digest(world.settings, ["raw_storefront"])
    return {table: value for table, value in digest.items() if value[0] > 0}


@contextmanager
def served(world: IngestWorld, drip: Drip) -> Iterator[Served]:
    """The world's API (with no faults of its own) and the proxy in front of it."""
    config = ApiConfig(connection=world.settings, rate_limit_per_second=1000)
    with running_api(config) as api:
        drip.upstream = api.base_url
        with drip_server(drip) as proxy:
            yield Served(world, drip, StorefrontEndpoint(proxy, api.api_key), api.api_key)


def unit(report: IngestReport, table: str) -> UnitResult:
    return next(u for u in report.units if u.table == table)


@pytest.fixture(autouse=True)
def fast_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FAST_REQUESTS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="module")
def clean_raw(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Digest:
    """The raw tables of an identical world ingested straight from the API."""
    with simulated_world(server_settings, tmp_path_factory.mktemp("clean")) as world:
        config = ApiConfig(connection=world.settings, rate_limit_per_second=1000)
        with running_api(config) as api:
            endpoint = StorefrontEndpoint(api.base_url, api.api_key)
            assert world.ingest("storefront", endpoint=endpoint).ok
        return raw(world)


@pytest.fixture(scope="module")
def faulted(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """One world shared by the cases whose every request fails: none of them loads a row."""
    with (
        simulated_world(server_settings, tmp_path_factory.mktemp("faulted")) as world,
        served(world, Drip()) as proxied,
    ):
        yield proxied


@pytest.fixture
def fresh(server_settings: ConnectionSettings, tmp_path: Path) -> Iterator[Served]:
    with simulated_world(server_settings, tmp_path) as world, served(world, Drip()) as proxied:
        yield proxied


OVERDUE = {
    "drip_headers": 0.2,  # a byte of status line and headers every 0.2 s: over a minute
    "drip_body": 0.05,  # headers at once, then a page of JSON a byte every 0.05 s
    "silent_after_headers": 0.0,  # headers, then nothing: only the read timeout would end it
    "mute": 0.0,  # the connection accepted, the request read, never a byte back
}


@pytest.mark.parametrize("mode", sorted(OVERDUE))
def test_an_overdue_answer_is_abandoned_at_its_deadline_and_nothing_is_loaded(
    faulted: Served, mode: str
) -> None:
    before = raw(faulted.world)
    faulted.drip.mode, faulted.drip.delay, faulted.drip.fault_from = mode, OVERDUE[mode], 1
    faulted.drip.held.clear()
    try:
        report, seconds = faulted.ingest()
    finally:
        faulted.drip.mode = "pass"

    assert seconds < GIVE_UP_SECONDS, seconds
    for table, path in (("products", "/v1/products"), ("sales", "/v1/sales")):
        error = str(unit(report, table).error)
        assert unit(report, table).status == "failed", report.units
        assert f"GET {faulted.endpoint.base_url}{path}" in error, error
        assert f"past its {DEADLINE_SECONDS} s deadline" in error, error
        assert f"given up after {ATTEMPTS} attempts" in error, error
        assert "nothing loaded, cursor kept" in error, error
        assert faulted.api_key not in error
    # every connection was cut near the deadline, none left open to drip on
    assert faulted.drip.held and max(faulted.drip.held) < DEADLINE_SECONDS + 1.5
    assert raw(faulted.world) == before


def test_shopflow_ingest_storefront_leaves_on_time_when_the_api_drips(faulted: Served) -> None:
    cli = CliWorld(faulted.world.settings, faulted.world.landing.parent)
    env = {
        **cli.env,
        "SOURCES__STOREFRONT__BASE_URL": faulted.endpoint.base_url,
        "SOURCES__STOREFRONT__API_KEY": faulted.api_key,
    }
    faulted.drip.mode, faulted.drip.delay, faulted.drip.fault_from = "drip_body", 0.05, 1
    started = time.monotonic()
    try:
        done = subprocess.run(
            shopflow_command("ingest", "storefront"),
            env=env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        faulted.drip.mode = "pass"
    seconds = time.monotonic() - started
    output = done.stdout + done.stderr

    assert done.returncode == 1, output
    assert seconds < GIVE_UP_SECONDS + 10, seconds  # plus the interpreter's start
    assert f"past its {DEADLINE_SECONDS} s deadline" in output, output
    assert faulted.api_key not in output
    assert "Traceback" not in output, output


def test_an_answer_slow_but_within_its_deadline_loads_everything(
    fresh: Served, clean_raw: Digest
) -> None:
    # every answer's body in 3 pieces 0.1 s apart: 0.2 s of a 1 s deadline
    fresh.drip.mode, fresh.drip.delay, fresh.drip.chunks = "slow", 0.1, 3
    report, _ = fresh.ingest()

    assert report.ok, report.units
    assert fresh.drip.matched > 0
    assert raw(fresh.world) == clean_raw


def test_a_table_abandoned_mid_listing_loads_everything_on_the_next_clean_run(
    fresh: Served, clean_raw: Digest
) -> None:
    # the second products page on drips: the first page came, the listing cannot end
    fresh.drip.mode, fresh.drip.delay = "drip_body", 0.05
    fresh.drip.fault_path, fresh.drip.fault_from = "/v1/products", 2
    report, seconds = fresh.ingest()
    assert seconds < GIVE_UP_SECONDS, seconds
    assert unit(report, "products").status == "failed", report.units
    assert unit(report, "sales").status == "ok", report.units
    assert "raw_storefront.products" not in raw(fresh.world)

    fresh.drip.mode = "pass"
    again, _ = fresh.ingest()

    assert again.ok, again.units
    assert raw(fresh.world) == clean_raw
