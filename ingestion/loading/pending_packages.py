"""No load package stays pending for ever, and one that fails blocks only its own tables.

dlt finishes a pipeline's pending load packages before it extracts anything new. A package
that can never load (a schema dlt cannot apply, a raw table changed behind its back, a trigger
that refuses the rows) would therefore fail every later run of every table of its source, and
only a person deleting the package would end it.

Here a source run first loads what is pending on its own (``settle_pending``). A package that
fails, there or in a load unit, has the failed run counted (once per run, in a small file in
the pipeline's working folder, with the last error) and is then *parked*: moved aside, so the
source's other tables load as usual; the tables it holds are not loaded again in that run (a
newer batch merged before an older one would be overwritten by it later). The next run puts
parked packages back first and tries them again. A package that has failed
``SHOPFLOW_PACKAGE_ATTEMPTS`` runs is given up: the rows of every table it has not finished
loading go to the source's ``rejected_records`` (the reason names the package, its attempts
and the last error), then the package is deleted and its tables load again. Tables the package
had already loaded keep their rows and are not set aside twice. A failure that only says the
warehouse is unreachable does not count: the package is fine, the server is not.
"""

from __future__ import annotations

import gzip
import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlt
import psycopg2
import pyarrow.parquet as pq
from dlt.common.utils import uniq_id
from psycopg2 import sql

from ingestion.database.connection import autocommit
from ingestion.database.errors import DatabaseError
from ingestion.loading.refused_rows import csv_payload, csv_records
from ingestion.root_cause import root_cause
from ingestion.settings import ConnectionSettings
from ingestion.sources.validation import REJECTED_RECORDS_TABLE

log = logging.getLogger(__name__)

ATTEMPTS_FILE = "shopflow_package_attempts.json"
"""In the pipeline's working folder: load id -> failed runs and the last error."""
PARKED_FOLDER = "shopflow_parked"
"""In the pipeline's working folder: packages moved aside for the rest of a run."""
PACKAGE_FOLDERS = {"extracted": ("normalize", "extracted"), "normalized": ("load", "normalized")}
"""Where dlt keeps pending packages in a pipeline's working folder, by stage."""
GIVEN_UP_REASON_PREFIX = "load package given up"
"""Every reason written here starts with this, so runs and tests can find these rows."""
UNREACHABLE = (psycopg2.OperationalError, psycopg2.InterfaceError, DatabaseError, OSError)
"""Errors that say the warehouse (or the disk) is away, not that the package is bad."""
DONE_STATES = ("completed_jobs",)


@dataclass(frozen=True)
class GivenUp:
    """One package whose rows were set aside: its id and the rows per table."""

    load_id: str
    rows: dict[str, int]


@dataclass
class Settled:
    """What handling failed packages did: packages given up, and tables blocked for the rest
    of the run by a parked package (table -> the error it failed with)."""

    given_up: list[GivenUp] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)

    def add(self, other: Settled) -> None:
        self.given_up += other.given_up
        self.blocked.update(other.blocked)


def pending_load_ids(pipeline: dlt.Pipeline) -> list[str]:
    """The pipeline's extracted and normalized packages that have not loaded yet."""
    return [*pipeline.list_extracted_load_packages(), *pipeline.list_normalized_load_packages()]


def _attempts_path(pipeline: dlt.Pipeline) -> Path:
    return Path(pipeline.working_dir) / ATTEMPTS_FILE


def read_attempts(pipeline: dlt.Pipeline) -> dict[str, dict[str, Any]]:
    """Load id -> ``{"attempts": n, "error": "..."}`` (empty when nothing failed)."""
    path = _attempts_path(pipeline)
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError):
        return {}


def _write_attempts(pipeline: dlt.Pipeline, attempts: dict[str, dict[str, Any]]) -> None:
    path = _attempts_path(pipeline)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(attempts, indent=1), encoding="utf-8")
    temporary.replace(path)


def _package_dir(pipeline: dlt.Pipeline, stage: str, load_id: str, parked: bool) -> Path:
    base = Path(pipeline.working_dir)
    if parked:
        return base / PARKED_FOLDER / stage / load_id
    return base.joinpath(*PACKAGE_FOLDERS[stage], load_id)


def park(pipeline: dlt.Pipeline, load_id: str) -> None:
    """Move a pending package aside so the rest of the run loads without it."""
    for stage in PACKAGE_FOLDERS:
        source = _package_dir(pipeline, stage, load_id, parked=False)
        if source.is_dir():
            target = _package_dir(pipeline, stage, load_id, parked=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(source), str(target))
            log.info("%s: load package %s parked for this run", pipeline.pipeline_name, load_id)


def restore_parked(pipeline: dlt.Pipeline) -> list[str]:
    """Put every parked package back where dlt looks for pending ones; their ids."""
    restored: list[str] = []
    for stage in PACKAGE_FOLDERS:
        folder = Path(pipeline.working_dir) / PARKED_FOLDER / stage
        for parked in sorted(folder.iterdir()) if folder.is_dir() else []:
            target = _package_dir(pipeline, stage, parked.name, parked=False)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(parked), str(target))
            restored.append(parked.name)
    return restored


def counts_against_package(exc: BaseException) -> bool:
    """Whether a failed run is the package's fault (not an unreachable warehouse or disk)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, UNREACHABLE):
            return False
        nested = next((a for a in current.args if isinstance(a, BaseException)), None)
        current = current.__cause__ or current.__context__ or nested
    return True


def _still_waiting(pipeline: dlt.Pipeline) -> dict[str, dict[str, Any]]:
    """The attempts of packages still pending or parked (loaded ones are forgotten)."""
    pending = pending_load_ids(pipeline)
    parked = Path(pipeline.working_dir) / PARKED_FOLDER
    return {
        lid: entry
        for lid, entry in read_attempts(pipeline).items()
        if lid in pending or any(parked.glob(f"*/{lid}"))
    }


def count_failed_run(pipeline: dlt.Pipeline, error: str) -> None:
    """Count one more failed run for each package pending now."""
    pending = pending_load_ids(pipeline)
    attempts = _still_waiting(pipeline)
    for load_id in pending:
        entry = attempts.setdefault(load_id, {"attempts": 0, "error": ""})
        entry["attempts"] = int(entry["attempts"]) + 1
        entry["error"] = error
        log.warning(
            "load package %s of %s failed (run %d): %s",
            load_id,
            pipeline.pipeline_name,
            entry["attempts"],
            error,
        )
    _write_attempts(pipeline, attempts)


def package_rows(path: Path) -> Iterator[str]:
    """The rows of one job file as JSON text (csv, insert-values, parquet, jsonl)."""
    name = path.name
    if name.endswith(".parquet"):
        for row in pq.read_table(path).to_pylist():
            yield json.dumps(row, default=str, ensure_ascii=False)
        return
    raw = path.read_bytes()
    data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    lines = data.splitlines(keepends=True)
    if name.endswith(".csv") and lines:
        header = [column.strip('"') for column in lines[0].decode("utf-8").strip().split(",")]
        for record in csv_records(iter(lines[1:])):
            yield csv_payload(header, record)
    elif name.endswith(".insert_values") and len(lines) > 2:
        columns = lines[0].decode("utf-8")
        columns = columns[columns.index("(") + 1 : columns.rindex(")")]
        for line in lines[2:]:
            text = line.decode("utf-8").rstrip("\n")
            if text.strip():
                yield json.dumps({"columns": columns, "values": text[:-1]}, ensure_ascii=False)
    elif name.endswith("jsonl"):  # jsonl and dlt's typed-jsonl
        for line in lines:
            if line.strip():
                yield line.decode("utf-8").rstrip("\n")


def unfinished_files(pipeline: dlt.Pipeline, load_id: str) -> dict[str, list[Path]]:
    """Per data table the package has not finished loading, its data files."""
    info = pipeline.get_load_package_info(load_id)
    files: dict[str, list[Path]] = {}
    unfinished: set[str] = set()
    for state, jobs in info.jobs.items():
        for job in jobs:
            table = job.job_file_info.table_name
            if table.startswith("_dlt"):
                continue
            if state not in DONE_STATES:
                unfinished.add(table)
            files.setdefault(table, []).append(Path(job.file_path))
    return {table: paths for table, paths in files.items() if table in unfinished}


def delete_package(pipeline: dlt.Pipeline, load_id: str) -> None:
    """Remove a pending package, wherever it waits (extracted or normalized)."""
    load_storage = pipeline._get_load_storage()
    if load_id in pipeline.list_normalized_load_packages():
        load_storage.normalized_packages.delete_package(load_id)
    normalize_storage = pipeline._get_normalize_storage()
    if load_id in pipeline.list_extracted_load_packages():
        normalize_storage.extracted_packages.delete_package(load_id)


def drop_committed_extractions(pipeline: dlt.Pipeline) -> list[str]:
    """The packages a killed run left both normalized and extracted, their extracted copies
    deleted.

    dlt commits a normalized package by renaming its folder, then deletes the extracted one
    ("Committing storage, do not kill this process"): a run killed between the two leaves the
    package twice, and the next normalize fails renaming onto the committed folder. The rename
    is atomic, so the normalized copy is whole and the extracted one is the one to drop.
    """
    twice = sorted(
        set(pipeline.list_extracted_load_packages()) & set(pipeline.list_normalized_load_packages())
    )
    extracted = pipeline._get_normalize_storage().extracted_packages
    for load_id in twice:
        log.warning(
            "%s: package %s was committed by a run killed before it cleaned up; its extracted "
            "copy is deleted and the committed one loads",
            pipeline.pipeline_name,
            load_id,
        )
        extracted.delete_package(load_id)
    return twice


def settle_pending(
    pipeline: dlt.Pipeline,
    settings: ConnectionSettings,
    dataset: str,
    limit: int,
) -> Settled:
    """Load what an earlier run left pending, before any unit extracts (see module)."""
    drop_committed_extractions(pipeline)
    if pending_load_ids(pipeline):
        try:
            pipeline.normalize()  # an extracted package keeps the file format it was made for
            pipeline.load()
        except Exception as exc:  # the package's failure is counted, then it waits aside
            log.debug("pending packages of %s failed", pipeline.pipeline_name, exc_info=True)
            return handle_failure(pipeline, settings, dataset, limit, exc)
    if read_attempts(pipeline):
        _write_attempts(pipeline, _still_waiting(pipeline))
    return Settled()


def handle_failure(
    pipeline: dlt.Pipeline,
    settings: ConnectionSettings,
    dataset: str,
    limit: int,
    exc: BaseException,
) -> Settled:
    """After a failed load: count the run against each pending package (unless the warehouse
    was only unreachable), give up those out of attempts, park the others."""
    if counts_against_package(exc):
        count_failed_run(pipeline, root_cause(exc))
    settled = Settled(given_up=give_up_exhausted(pipeline, settings, dataset, limit))
    error = root_cause(exc)
    for load_id in pending_load_ids(pipeline):
        for table in unfinished_files(pipeline, load_id):
            settled.blocked[table] = error
        park(pipeline, load_id)
    return settled


def give_up_exhausted(
    pipeline: dlt.Pipeline, settings: ConnectionSettings, dataset: str, limit: int
) -> list[GivenUp]:
    """Set aside the rows of every pending package that failed ``limit`` runs, then delete it.

    The rows are written in one transaction before the package is deleted: if the warehouse
    fails in between, the package is still there and the next run does it again.
    """
    attempts = read_attempts(pipeline)
    given_up: list[GivenUp] = []
    for load_id in pending_load_ids(pipeline):
        entry = attempts.get(load_id)
        if entry is None or int(entry["attempts"]) < limit:
            continue
        reason = (
            f"{GIVEN_UP_REASON_PREFIX}: package {load_id} failed {entry['attempts']} runs "
            f"(last: {entry['error']})"
        )
        counts = _set_aside(settings, dataset, load_id, unfinished_files(pipeline, load_id), reason)
        delete_package(pipeline, load_id)
        attempts.pop(load_id, None)
        _write_attempts(pipeline, attempts)
        log.error(
            "%s: load package %s failed %s runs; %d row(s) set aside in %s.%s, package deleted "
            "(last error: %s)",
            pipeline.pipeline_name,
            load_id,
            entry["attempts"],
            sum(counts.values()),
            dataset,
            REJECTED_RECORDS_TABLE,
            entry["error"],
        )
        given_up.append(GivenUp(load_id, counts))
    return given_up


def _set_aside(
    settings: ConnectionSettings,
    dataset: str,
    load_id: str,
    files: dict[str, list[Path]],
    reason: str,
) -> dict[str, int]:
    insert = sql.SQL(
        "insert into {}.{} (resource, reason, raw_payload, load_id, rejected_at, _dlt_load_id,"
        " _dlt_id) values (%s, %s, %s, %s, now(), %s, %s)"
    ).format(sql.Identifier(dataset), sql.Identifier(REJECTED_RECORDS_TABLE))
    counts: dict[str, int] = {}
    with autocommit(settings, settings.database) as cursor:
        cursor.execute("begin")
        # a run killed after this commit but before the package was deleted does it again
        cursor.execute(
            sql.SQL("delete from {}.{} where load_id = %s and reason like %s").format(
                sql.Identifier(dataset), sql.Identifier(REJECTED_RECORDS_TABLE)
            ),
            (load_id, GIVEN_UP_REASON_PREFIX + "%"),
        )
        for table, paths in files.items():
            for path in paths:
                for payload in package_rows(path):
                    cursor.execute(insert, (table, reason, payload, load_id, load_id, uniq_id()))
                    counts[table] = counts.get(table, 0) + 1
        cursor.execute("commit")
    return counts
