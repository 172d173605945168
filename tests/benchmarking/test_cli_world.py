"""Reading a `shopflow run`'s stage seconds, and the memory of a process tree."""

from __future__ import annotations

import subprocess
import sys

from ingestion.benchmarking.cli_world import stage_seconds
from ingestion.benchmarking.memory import sampling_memory

SUMMARY = """\
dbt output │ with a bar │ that is not the table
                                  shopflow run
┏━━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
┃ stage     ┃ status ┃ seconds ┃ detail                                                ┃
┡━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
│ simulate  │ ok     │     1.8 │ tick 1 (+1d): 4 new orders                            │
│ ingest    │ ok     │     9.9 │ 63 rows loaded, 0 rejected, 0 files quarantined (3    │
│           │        │         │ sources)                                              │
│ dbt build │ ok     │    38.8 │ PASS=368 WARN=0 ERROR=0 SKIP=0 NO-OP=6 TOTAL=374      │
│ dbt docs  │ ok     │  1234.5 │ target/index.html, target/catalog.json                │
└───────────┴────────┴─────────┴───────────────────────────────────────────────────────┘
"""


def test_stage_seconds_come_from_the_summary_rows_only() -> None:
    assert stage_seconds(SUMMARY) == {
        "simulate": 1.8,
        "ingest": 9.9,
        "dbt build": 38.8,
        "dbt docs": 1234.5,
    }


def test_memory_of_a_child_process_is_counted_in_the_tree() -> None:
    """A parent that starts a child holding 200 MB: the tree's peak includes the child's."""
    child = "import time; block = bytearray(200 * 1024 * 1024); time.sleep(1.5)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])"
    process = subprocess.Popen([sys.executable, "-c", parent])
    with sampling_memory(process.pid) as sampler:
        process.wait()
    memory = sampler.result()
    assert memory.largest_process_mb >= 200
    assert memory.tree_peak_mb >= memory.largest_process_mb
