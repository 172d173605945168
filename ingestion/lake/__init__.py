"""The Parquet lake: the warehouse's raw layer exported for Spark (`shopflow ingest
--destination lake`). The layout lives in ``layout``; docs/scale-out.md describes it."""

from ingestion.lake.export import LakeExport, export_lake
from ingestion.lake.filesystem import Lake, open_lake
from ingestion.lake.layout import LAKE_TABLES, MANIFEST_NAME, LakeTable, lake_tables
from ingestion.lake.manifest import Manifest, TableEntry, read_manifest
from ingestion.lake.warehouse import MissingRawTableError

__all__ = [
    "LAKE_TABLES",
    "MANIFEST_NAME",
    "Lake",
    "LakeExport",
    "LakeTable",
    "Manifest",
    "MissingRawTableError",
    "TableEntry",
    "export_lake",
    "lake_tables",
    "open_lake",
    "read_manifest",
]
