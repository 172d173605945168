"""A load package that can never load (issue 21, class 2): a trigger refusing its rows, or a raw
column dropped behind dlt's back. It fails a bounded number of runs while the source's other
tables load, then is set aside in ``rejected_records`` and deleted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import dlt
import pytest

from ingestion.loading.pending_packages import (
    GIVEN_UP_REASON_PREFIX,
    PARKED_FOLDER,
    pending_load_ids,
    read_attempts,
)
from ingestion.loading.registry import LoadUnit, SourceSpec
from ingestion.loading.runner import SourceRun, run_source
from ingestion.loading.runtime import make_pipeline
from ingestion.settings import ConnectionSettings
from tests.integration.ingest_support import private_world
from tests.reliability.schema_changes.statements import warehouse_execute

pytestmark = [pytest.mark.reliability, pytest.mark.integration]


PROBE_DATASET = "raw_probe"


@dlt.source(name="probe")
def probe_source(batch: int) -> Any:
    """Two small tables of plain rows: ``items`` (the one broken on purpose) and ``notes``."""

    @dlt.resource(write_disposition="append")
    def items() -> Iterator[dict[str, Any]]:
        yield from ({"id": batch * 10 + i, "label": f"item {batch}.{i}"} for i in range(4))

    @dlt.resource(write_disposition="append")
    def notes() -> Iterator[dict[str, Any]]:
        yield {"id": batch, "text": f"note {batch}"}

    return items, notes


@dataclass(frozen=True)
class Breakage:
    name: str
    breaks: tuple[str, ...]
    repairs: tuple[str, ...]
    labelled: tuple[int, ...]
    """The batches whose labels raw holds at the end (dropping the column lost batch 1's)."""


BREAKAGES = (
    Breakage(
        "a trigger refuses the rows",
        (
            "create function raw_probe.refuse() returns trigger language plpgsql as"
            " $$ begin raise exception 'items are frozen by the test'; end $$",
            "create trigger refuse before insert on raw_probe.items"
            " for each statement execute function raw_probe.refuse()",
        ),
        ("drop trigger refuse on raw_probe.items",),
        (1, 3, 4),
    ),
    Breakage(
        "a raw column dropped behind dlt's back",
        ("alter table raw_probe.items drop column label",),
        ("alter table raw_probe.items add column label varchar",),
        (3, 4),
    ),
)
ATTEMPTS = 2


@pytest.mark.parametrize("breakage", BREAKAGES, ids=[b.name for b in BREAKAGES])
def test_a_package_that_never_loads_is_set_aside_after_bounded_attempts(
    server_settings: ConnectionSettings, tmp_path: Path, breakage: Breakage
) -> None:
    with private_world(server_settings, tmp_path) as world:
        batch = [0]
        spec = SourceSpec(
            name="probe",
            dataset=PROBE_DATASET,
            loader_file_format=None,
            units=(LoadUnit("items", ("items",)), LoadUnit("notes", ("notes",))),
            build=lambda _context: probe_source(batch[0]),
        )
        context = world.context()
        context = replace(context, config=replace(context.config, package_attempts=ATTEMPTS))

        def run() -> dict[str, Any]:
            batch[0] += 1
            source_run: SourceRun = run_source(spec, context)
            return {u.table: u for u in source_run.units}

        assert all(u.status == "ok" for u in run().values())
        warehouse_execute(world.settings, *breakage.breaks)
        runs = [run() for _ in range(ATTEMPTS)]  # batches 2 and 3
        for units in runs:
            # the broken table fails; the source's other table loads all the same
            assert units["items"].status == "failed"
            assert units["notes"].status == "ok", units["notes"].error
        # batch 2's package failed ATTEMPTS runs: its 4 rows set aside with the reason, and
        # counted as rejected by the run that gave it up
        rejected = world.query(
            "select resource, reason, raw_payload from raw_probe.rejected_records order by 3"
        )
        assert len(rejected) == 4 and {r[0] for r in rejected} == {"items"}
        assert all(r[1].startswith(GIVEN_UP_REASON_PREFIX) for r in rejected)
        assert f"failed {ATTEMPTS} runs" in rejected[0][1]
        # insert-values rows keep dlt's column list and the row's SQL literals
        payloads = [json.loads(r[2]) for r in rejected]
        assert all("label" in payload["columns"] for payload in payloads)
        assert (
            sorted(f"item 2.{i}" in p["values"] for p in payloads for i in range(4)).count(True)
            == 4
        )
        assert runs[-1]["items"].rows_rejected == 4 and runs[-1]["items"].balanced
        pipeline = make_pipeline("probe", PROBE_DATASET, world.settings)
        assert [entry["attempts"] for entry in read_attempts(pipeline).values()] == [1]

        warehouse_execute(world.settings, *breakage.repairs)
        units = run()  # batch 4
        # batch 3's package (one failed run) loads once repaired, then the run's own rows
        assert units["items"].status == "ok" and units["notes"].status == "ok"
        assert not pending_load_ids(pipeline)
        assert not any((Path(pipeline.working_dir) / PARKED_FOLDER).glob("*/*"))
        assert not read_attempts(pipeline)
        ids = sorted(row[0] for row in world.query("select id from raw_probe.items"))
        labels = world.query("select label from raw_probe.items where label is not null")
        # nothing lost, nothing twice: every row is in raw or in rejected_records, once
        assert ids == [b * 10 + i for b in (1, 3, 4) for i in range(4)]
        assert sorted(row[0] for row in labels) == sorted(
            f"item {b}.{i}" for b in breakage.labelled for i in range(4)
        )
        assert world.scalar("select count(*) from raw_probe.notes") == 4
