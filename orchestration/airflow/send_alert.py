"""Send the project's failure alert for an Airflow task that failed for good.

Run by the shopflow_daily DAG's ``on_failure_callback`` with the project's own interpreter
(``.venv/bin/python``), because the Airflow virtualenv does not have the project installed:
the alert goes to the same receivers (``SHOPFLOW_ALERT_URL`` / ``SHOPFLOW_ALERT_WEBHOOK``) in
the same shape as ``shopflow run``'s own (docs/alerts.md). Exit code 0 when at least one
receiver got it (or none is configured), 1 otherwise.
"""

from __future__ import annotations

import argparse
import logging
import sys

from ingestion.monitoring.alerts import AlertEvent, configured_urls, send_alert


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True, help="the Airflow task id that failed")
    parser.add_argument(
        "--run-id", required=True, help="the run id the DAG run's tasks recorded under"
    )
    parser.add_argument("--what-failed", required=True, help="one sentence, then details")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not configured_urls():
        logging.info("no alert URL configured: nothing sent")
        return 0
    event = AlertEvent(stage=args.stage, what_failed=args.what_failed, run_id=args.run_id)
    return 0 if send_alert(event) else 1


if __name__ == "__main__":
    sys.exit(main())
