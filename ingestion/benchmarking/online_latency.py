"""Online look-up latency of the feature store: Feast's feature server started on 127.0.0.1
over the warehouse's online store, then LOOKUPS sequential POST /get-online-features requests,
one random customer each (feature service `customer_value_scoring`), timed end to end from
this process; p50 and p99 printed (docs/features.md, "Online look-up latency"). Needs the
feature store applied and materialised (`shopflow features apply`, `... materialize`).

    python -m ingestion.benchmarking.online_latency [--lookups 1000] [--port 6567]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import statistics
import time
import urllib.error
import urllib.request

from ingestion.database.connection import autocommit
from ingestion.database.server_settings import connection_settings
from ingestion.features.feast_process import start_feast_task
from ingestion.interrupts import stop_process_group
from ingestion.settings import Settings

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
SERVICE = "customer_value_scoring"
STARTUP_SECONDS = 120.0
WARM_UP_LOOKUPS = 20


def wait_until_healthy(base_url: str, deadline_seconds: float) -> None:
    """Poll /health until the server answers; TimeoutError after ``deadline_seconds``."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base_url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    raise TimeoutError(f"the feature server at {base_url} did not start in {deadline_seconds} s")


def look_up(base_url: str, customer_id: int) -> float:
    """One online look-up; its wall-clock seconds, a retry after a reset included (Feast's
    server recycles its worker every ~1,000 requests: gunicorn's max_requests)."""
    started = time.perf_counter()
    try:
        send(base_url, customer_id)
    except ConnectionResetError:
        log.info("connection reset (worker recycled): retrying")
        send(base_url, customer_id)
    return time.perf_counter() - started


def send(base_url: str, customer_id: int) -> None:
    body = json.dumps({"feature_service": SERVICE, "entities": {"customer_id": [customer_id]}})
    request = urllib.request.Request(
        f"{base_url}/get-online-features",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--port", type=int, default=6567)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    config, settings = Settings.from_environment(), connection_settings()
    with autocommit(settings, settings.database) as cursor:
        cursor.execute("select distinct customer_id from features.feat_customer_daily")
        customers = [int(row[0]) for row in cursor.fetchall()]
    server = start_feast_task(["serve", "--host", HOST, "--port", str(args.port)], config, settings)
    base_url = f"http://{HOST}:{args.port}"
    try:
        wait_until_healthy(base_url, STARTUP_SECONDS)
        for _ in range(WARM_UP_LOOKUPS):
            look_up(base_url, random.choice(customers))
        timings = [look_up(base_url, random.choice(customers)) for _ in range(args.lookups)]
    finally:
        stop_process_group(server)
    p50, p99 = (percentile(timings, share) * 1000 for share in (0.5, 0.99))
    print(
        f"{args.lookups} look-ups of {len(customers)} customers: p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms, mean {statistics.mean(timings) * 1000:.1f} ms "
        f"(load average {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
