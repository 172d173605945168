"""The semantic layer from Python: MetricFlow compiles a saved query or a metric query from
dbt's semantic manifest into SQL, which runs on the warehouse's own connection. `shopflow
export` and `shopflow report` read their business figures this way, so each figure has one
definition: the metric in dbt_project/models/marts/_marts__metrics.yml."""

from ingestion.semantic.layer import (
    MetricTable,
    SemanticLayer,
    SemanticLayerNotBuiltError,
    semantic_manifest_path,
)

__all__ = ["MetricTable", "SemanticLayer", "SemanticLayerNotBuiltError", "semantic_manifest_path"]
