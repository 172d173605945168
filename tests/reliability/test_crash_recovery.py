"""kill -9 at seeded moments of ingestion and of `dbt build`; the re-run equals a clean run.

A reference world is built and run once without interruption. Each ingestion trial builds
the same world (same seed and scale) from scratch, kills `shopflow ingest all` (its whole
process group: the CLI, dlt, the storefront API) at one seeded moment, runs it again to the
end and compares every raw table with the reference. `dbt build --full-refresh` is killed
the same way on the reference world itself; `shopflow run` afterwards must leave every built
table exactly as the clean build did. `shopflow run` twice with no change changes nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ingestion.settings import ConnectionSettings
from tests.reliability.references import BUILT_SCHEMAS, BuiltReference, Reference, new_world
from tests.reliability.support import RAW_SCHEMAS, differing, seeded_moments

log = logging.getLogger(__name__)

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow]

INGEST_KILLS = 10
DBT_KILLS = 3


def test_a_second_run_with_no_change_changes_nothing(built_reference: BuiltReference) -> None:
    reference = built_reference
    assert differing(reference.raw, reference.world.digest(RAW_SCHEMAS)) == {}
    again = reference.world.run("run")
    assert again.returncode == 0, again.stdout + again.stderr
    assert differing(reference.world.digest(RAW_SCHEMAS), reference.raw) == {}
    assert differing(reference.world.digest(BUILT_SCHEMAS), reference.built) == {}


@pytest.mark.parametrize(
    "moment", range(INGEST_KILLS), ids=[f"kill{i}" for i in range(INGEST_KILLS)]
)
def test_ingestion_killed_at_any_moment_then_rerun_equals_the_clean_run(
    reference: Reference,
    server_settings: ConnectionSettings,
    tmp_path: Path,
    moment: int,
) -> None:
    # a run alone is quicker than the reference was (measured while other tests set up)
    seconds = seeded_moments(INGEST_KILLS, 0.5, reference.ingest_seconds * 0.7)[moment]
    for world in new_world(server_settings, tmp_path):
        killed = world.kill_after(seconds, "ingest", "all")
        log.info(
            "ingestion trial %d: killed after %.2fs, before its end: %s", moment, seconds, killed
        )
        rerun = world.run("ingest", "all", "--wait", "30")
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert differing(world.digest(RAW_SCHEMAS), reference.raw) == {}, (
            f"killed after {seconds}s (before the end: {killed})"
        )


@pytest.mark.parametrize("moment", range(DBT_KILLS), ids=[f"kill{i}" for i in range(DBT_KILLS)])
def test_dbt_build_killed_at_any_moment_then_rerun_equals_the_clean_build(
    built_reference: BuiltReference, moment: int
) -> None:
    reference = built_reference
    # the dbt build alone takes about half of a whole `shopflow run` (ingest, build, docs)
    seconds = seeded_moments(DBT_KILLS, 2.0, reference.build_seconds * 0.45)[moment]
    killed = reference.world.dbt_build_killed_after(seconds, "--full-refresh")
    log.info("dbt trial %d: killed after %.2fs, before its end: %s", moment, seconds, killed)
    rerun = reference.world.run("run", "--wait", "30")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert differing(reference.world.digest(BUILT_SCHEMAS), reference.built) == {}, (
        f"killed after {seconds}s (before the end: {killed})"
    )
    assert differing(reference.world.digest(RAW_SCHEMAS), reference.raw) == {}
