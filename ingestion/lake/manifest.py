"""``<lake>/_manifest.json``: what the lake holds, written last, so readers trust only it.

Per table: its folder, partition columns, row count, columns with their Arrow types, the
warehouse (dlt) load ids its rows came from, and its data files. An export of some sources
keeps the other sources' entries as they were. The file is written under a temporary name
and moved into place, so a reader sees the old manifest or the new one, never half of one.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa

from ingestion.lake.filesystem import Lake
from ingestion.lake.layout import MANIFEST_NAME, NULL_PARTITION, PARTITION_FLAVOR, join

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    """The Arrow type as pyarrow prints it: ``decimal128(12, 2)``, ``timestamp[us, tz=UTC]``."""


@dataclass(frozen=True)
class TableEntry:
    """One table as the manifest lists it."""

    path: str
    """The table's folder relative to the lake's root: ``raw_ops/orders``."""
    partition_columns: list[str]
    row_count: int
    columns: list[Column]
    load_ids: list[str]
    files: list[str]
    """Data files relative to the table's folder (``ordered_date=2025-03-01/part-....parquet``)."""
    export_id: str
    exported_at: str

    @staticmethod
    def from_json(values: dict[str, Any]) -> TableEntry:
        return TableEntry(**{**values, "columns": [Column(**c) for c in values["columns"]]})


def columns_of(schema: pa.Schema) -> list[Column]:
    return [Column(field.name, str(field.type)) for field in schema]


@dataclass
class Manifest:
    """The whole manifest: the tables by qualified name (``raw_ops.orders``)."""

    tables: dict[str, TableEntry] = field(default_factory=dict)
    export_id: str = ""
    """The export that wrote this version of the manifest."""
    written_at: str = ""
    warehouse: str = ""
    """The warehouse database the raw tables were read from."""
    format_version: int = FORMAT_VERSION
    partition_flavor: str = PARTITION_FLAVOR
    null_partition: str = NULL_PARTITION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @staticmethod
    def from_json(text: str) -> Manifest:
        values = json.loads(text)
        tables = {name: TableEntry.from_json(entry) for name, entry in values["tables"].items()}
        return Manifest(**{**values, "tables": tables})


def manifest_path(lake: Lake) -> str:
    return join(lake.root, MANIFEST_NAME)


def read_manifest(lake: Lake) -> Manifest:
    """The lake's manifest; an empty one when the lake has none yet."""
    path = manifest_path(lake)
    if not lake.filesystem.exists(path):
        return Manifest()
    with lake.filesystem.open(path, "r", encoding="utf-8") as stream:
        return Manifest.from_json(stream.read())


def write_manifest(lake: Lake, manifest: Manifest) -> str:
    """Write the manifest under a temporary name, then move it into place; returns its path."""
    path = manifest_path(lake)
    temporary = f"{path}.{manifest.export_id}.part"
    lake.filesystem.makedirs(lake.root, exist_ok=True)
    with lake.filesystem.open(temporary, "w", encoding="utf-8") as stream:
        stream.write(manifest.to_json())
    lake.filesystem.mv(temporary, path)
    log.info("wrote %s (%d tables)", path, len(manifest.tables))
    return path
