"""Four commands started at the same moment on a warehouse that does not exist yet: all four
provision it at once (databases, roles, grants, the replication slot), one runs, three are
refused by the run lock in one sentence: no traceback, and the one run's warehouse is whole."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from ingestion.benchmarking.cli_world import SHOPFLOW, throwaway_world
from ingestion.cli.locking import BUSY_EXIT_CODE
from ingestion.database.connection import drop_database
from ingestion.settings import ConnectionSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

COMMANDS = 4
SCALE = "0.1"


def test_four_runs_at_once_give_one_run_and_three_one_sentence_refusals(
    server_settings: ConnectionSettings, tmp_path: Path
) -> None:
    with throwaway_world(server_settings, tmp_path, prefix="shopflow_four_") as world:
        for name in (world.settings.database, world.settings.ops_database):
            drop_database(world.settings, name)  # the four race to create them too
        start = threading.Barrier(COMMANDS)
        finished: list[subprocess.CompletedProcess[str]] = []

        def command() -> None:
            start.wait()
            finished.append(
                subprocess.run(
                    [SHOPFLOW, "run", "--scale", SCALE, "--wait", "0"],
                    env=world.environment(),
                    capture_output=True,
                    text=True,
                    timeout=900,
                )
            )

        threads = [threading.Thread(target=command) for _ in range(COMMANDS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ran = [done for done in finished if done.returncode == 0]
        refused = [done for done in finished if done.returncode == BUSY_EXIT_CODE]
        outputs = "\n---\n".join(done.stdout + done.stderr for done in finished)
        assert "Traceback" not in outputs, outputs
        padded = [line for line in outputs.splitlines() if line != line.rstrip()]
        assert padded == [], "a piped line is as long as what it says"
        assert (len(ran), len(refused)) == (1, COMMANDS - 1), outputs
        for done in refused:
            said = " ".join(done.stderr.split())  # one sentence, however the console wraps it
            assert said.startswith(
                f"error: Another run holds the run lock of warehouse '{world.settings.database}'"
            ), done.stderr
            assert said.endswith("or pass --wait SECONDS to wait for it."), done.stderr
        assert world.query("select count(*) from marts.fct_orders")[0][0] > 0
