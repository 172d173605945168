"""A load package left pending: which failures count against it, how its rows are read back
from each file format dlt writes, and a package a killed run left twice."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import dlt
import psycopg2
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from ingestion.loading.pending_packages import (
    counts_against_package,
    drop_committed_extractions,
    package_rows,
    pending_load_ids,
)


def test_an_unreachable_warehouse_does_not_count_against_a_package() -> None:
    outer = RuntimeError("load failed")
    outer.__cause__ = psycopg2.OperationalError("connection refused")
    assert not counts_against_package(outer)
    assert counts_against_package(TypeError("not all arguments converted"))


def test_a_packages_rows_are_read_back_from_each_file_format(tmp_path: Path) -> None:
    csv = tmp_path / "items.abc.0.csv"
    csv.write_bytes(b'id,label\n1,"two\nlines"\n2,\n')
    assert [json.loads(row) for row in package_rows(csv)] == [
        {"id": "1", "label": "two\nlines"},
        {"id": "2", "label": None},
    ]
    values = tmp_path / "items.abc.0.insert_values"
    values.write_text("INSERT INTO {}(\"id\",\"label\")\nVALUES\n(1,'a'),\n(2,'b');\n")
    rows = [json.loads(row) for row in package_rows(values)]
    assert [row["values"] for row in rows] == ["(1,'a')", "(2,'b')"]
    parquet = tmp_path / "items.abc.0.parquet"
    pq.write_table(
        pa.Table.from_pylist([{"id": 1, "at": datetime(2026, 1, 1, tzinfo=UTC)}]), parquet
    )
    assert json.loads(next(package_rows(parquet)))["id"] == 1
    jsonl = tmp_path / "items.abc.0.typed-jsonl"
    jsonl.write_text('{"id": 1}\n\n{"id": 2}\n')
    assert list(package_rows(jsonl)) == ['{"id": 1}', '{"id": 2}']
    merge = tmp_path / "items.abc.0.sql"  # a merge job: statements, no rows of its own
    merge.write_text("insert into raw.items select * from staging.items;\n")
    assert list(package_rows(merge)) == []


def test_a_package_committed_by_a_killed_normalize_loads_once(tmp_path: Path) -> None:
    """A run killed between dlt's commit of a normalized package and the deletion of its
    extracted copy leaves the package twice: the next normalize failed renaming onto the
    committed folder (found by tests/reliability/test_crash_recovery.py)."""
    pipeline = dlt.pipeline(
        "killed_normalize", pipelines_dir=str(tmp_path / "dlt"), destination="dummy"
    )
    pipeline.extract([{"id": 1}, {"id": 2}], table_name="items")
    (load_id,) = pipeline.list_extracted_load_packages()
    extracted = pipeline._get_normalize_storage().extracted_packages
    folder = Path(extracted.storage.make_full_path(extracted.get_package_path(load_id)))
    kept = tmp_path / "kept"
    shutil.copytree(folder, kept)
    pipeline.normalize()
    shutil.copytree(kept, folder)  # the state the kill left: committed, and still extracted
    assert pending_load_ids(pipeline) == [load_id, load_id]
    with pytest.raises(PipelineStepFailed, match="Directory not empty"):
        pipeline.normalize()  # what the next run met before

    assert drop_committed_extractions(pipeline) == [load_id]
    assert pending_load_ids(pipeline) == [load_id]
    pipeline.normalize()  # nothing left to normalize: no error
    assert pipeline.list_normalized_load_packages() == [load_id]
    assert drop_committed_extractions(pipeline) == []
