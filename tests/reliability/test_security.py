"""No secret in any output or log of a full run; identifiers in SQL are quoted.

(The storefront API's refusal of a missing or wrong token is proven in
``tests/simulators/test_storefront_api.py::test_v1_refuses_a_missing_or_wrong_key``.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.database.connection import autocommit
from ingestion.loading.runtime import pipelines_dir
from ingestion.settings import ConnectionSettings
from tests.integration.ingest_support import private_world
from tests.reliability.conftest import BuiltReference, Reference
from tests.reliability.support import API_KEY, CliWorld

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow]


def files_holding(folder: Path, secret: bytes) -> list[str]:
    return [
        str(path) for path in folder.rglob("*") if path.is_file() and secret in path.read_bytes()
    ]


def test_no_password_or_api_key_in_any_output_log_or_audit_row(
    reference: Reference, built_reference: BuiltReference
) -> None:
    """Both clean runs: `shopflow ingest all` on one world, `shopflow run` on another."""
    for world, output in (
        (reference.world, reference.output),
        (built_reference.world, built_reference.output),
    ):
        with autocommit(world.settings, world.settings.database) as cursor:
            cursor.execute("select t::text from audit.pipeline_runs as t")
            audit_rows = " ".join(row[0] for row in cursor.fetchall())
        for secret in (world.settings.password, API_KEY):
            assert secret not in output
            assert secret not in audit_rows
            # dbt's logs and target folder, the landing zone, dlt's working folders and traces
            assert files_holding(world.files, secret.encode()) == []
            assert files_holding(pipelines_dir(world.settings), secret.encode()) == []


def test_database_names_that_need_quoting_load_like_any_other(
    server_settings: ConnectionSettings, tmp_path: Path
) -> None:
    with private_world(server_settings, tmp_path, prefix='Shop-Flow "Odd"; DB ') as world:
        cli_world = CliWorld(world.settings, world.landing.parent)
        for command in (("simulate", "all", "--scale", "0.05"), ("ingest", "all")):
            done = cli_world.run(*command)
            assert done.returncode == 0, done.stdout + done.stderr
        counts = world.query(
            "select (select count(*) from raw_ops.orders), (select count(*) from"
            " raw_storefront.products), (select count(*) from raw_files.events)"
        )[0]
        assert all(count > 0 for count in counts), counts
