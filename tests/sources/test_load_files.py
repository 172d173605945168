"""Unit tests of the csv load files that dlt imports as they are (``CsvLoadFiles``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from dlt.extract.extractors import ImportFileMeta
from dlt.extract.items import DataItemWithMeta

from ingestion.sources.load_files import CsvLoadFiles


@pytest.fixture
def scratch_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SHOPFLOW_HOME", str(tmp_path))
    return tmp_path / "tmp"


def _taken(marks: Iterator[DataItemWithMeta]) -> list[tuple[int, list[str], list[str]]]:
    """Consume the marks as dlt does: (rows, hint column names, csv lines) of each file."""
    files = []
    for mark in marks:
        meta = mark.meta
        assert isinstance(meta, ImportFileMeta) and meta.file_format == "csv"
        assert mark.data.num_rows == 0  # the hints carry the schema, not the rows
        lines = Path(meta.file_path).read_text().splitlines()
        files.append((meta.metrics.items_count, mark.data.schema.names, lines))
    return files


def test_a_table_becomes_a_csv_file_as_dlt_writes_it(scratch_root: Path) -> None:
    table = pa.table(
        {
            "event_id": ["a", "b"],
            "product_information__sku": ["SKU-1", None],
            "utm-Source": ["mail", ""],
        }
    )
    with CsvLoadFiles("events") as load_files:
        assert _taken(load_files.add(table)) == []  # not full yet: nothing handed over
        marks = load_files.flush()
        mark = next(marks)
        path = Path(mark.meta.file_path)
        assert path.parent.parent == scratch_root
        names = ["event_id", "product_information__sku", "utm_source", "_dlt_load_id"]
        assert mark.data.schema.names == names
        assert not mark.data.schema.field("_dlt_load_id").nullable
        # dlt's csv: quoted header and values, null as an empty field (no load id outside a run)
        assert path.read_text().splitlines() == [
            ",".join(f'"{n}"' for n in names),
            '"a","SKU-1","mail",""',
            '"b",,"",""',
        ]
        with pytest.raises(StopIteration):
            next(marks)  # dlt has hard-linked the file into its package by now
        assert not path.exists()
    assert list(scratch_root.iterdir()) == []


def test_files_rotate_when_full_and_when_the_columns_change(scratch_root: Path) -> None:
    narrow = pa.table({"event_id": ["1", "2"]})
    wide = pa.table({"event_id": ["3"], "campaign": ["spring"]})
    with CsvLoadFiles("events", max_rows=3) as load_files:
        taken = _taken(load_files.add(narrow))
        taken += _taken(load_files.add(narrow))  # 4 rows >= 3: the file is handed over
        taken += _taken(load_files.add(wide))  # other columns: a new file
        taken += _taken(load_files.flush())
        taken += _taken(load_files.flush())  # nothing left
    assert [(rows, names) for rows, names, _ in taken] == [
        (4, ["event_id", "_dlt_load_id"]),
        (1, ["event_id", "campaign", "_dlt_load_id"]),
    ]
    assert taken[0][2] == ['"event_id","_dlt_load_id"'] + [f'"{i}",""' for i in "1212"]
    assert taken[1][2] == ['"event_id","campaign","_dlt_load_id"', '"3","spring",""']


def test_scratch_files_are_removed_when_the_run_stops_early(scratch_root: Path) -> None:
    with CsvLoadFiles("events") as load_files:
        list(load_files.add(pa.table({"event_id": ["1"]})))
        assert len(list(scratch_root.rglob("*.csv"))) == 1
    assert list(scratch_root.iterdir()) == []


def test_declared_fields_give_the_hints_while_the_file_keeps_the_text(
    scratch_root: Path,
) -> None:
    declared = [pa.field("timestamp", pa.timestamp("us", tz="UTC"))]
    table = pa.table({"event_id": ["1"], "timestamp": ["2026-01-01 10:00:00+00"]})
    with CsvLoadFiles("events", declared=declared) as load_files:
        list(load_files.add(table))
        marks = load_files.flush()  # kept: closing the generator removes the file
        mark = next(marks)
        assert mark.data.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
        assert mark.data.schema.field("event_id").type == pa.string()
        lines = Path(mark.meta.file_path).read_text().splitlines()
        assert lines[1] == '"1","2026-01-01 10:00:00+00",""'
