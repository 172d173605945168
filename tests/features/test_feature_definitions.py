"""Feast's feature views list the dbt feature tables' columns: every feature column of each
table's YAML is served, and nothing else. Read from the source with `ast` (Feast lives in
.venv-feast, not in this interpreter)."""

from __future__ import annotations

import ast

import pytest
import yaml

from ingestion.settings import REPO_ROOT

DEFINITIONS = REPO_ROOT / "features" / "feature_repo" / "definitions.py"
MODELS = REPO_ROOT / "dbt_project" / "models" / "features"
NOT_FEATURES = {"as_of_date", "as_of_at", "dbt_built_at"}
"""Columns of a feature table that are keys, timestamps or provenance, not features."""
PROVENANCE_PREFIXES = ("last_",)
PROVENANCE_SUFFIXES = ("_version_valid_from",)


def feature_lists() -> dict[str, list[str]]:
    """The keys of each ``*_FEATURES`` dict literal in definitions.py."""
    lists: dict[str, list[str]] = {}
    for node in ast.parse(DEFINITIONS.read_text(encoding="utf-8")).body:
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id.endswith("_FEATURES")
            and isinstance(node.value, ast.Dict)
        ):
            lists[node.target.id] = [ast.literal_eval(key) for key in node.value.keys if key]
    return lists


def table_features(model: str, entity_key: str) -> list[str]:
    document = yaml.safe_load((MODELS / f"{model}.yml").read_text(encoding="utf-8"))
    columns = [column["name"] for column in document["models"][0]["columns"]]
    return [
        name
        for name in columns
        if name != entity_key
        and name not in NOT_FEATURES
        and not name.startswith(PROVENANCE_PREFIXES)
        and not name.endswith(PROVENANCE_SUFFIXES)
    ]


@pytest.mark.parametrize(
    ("features", "model", "entity_key"),
    [
        ("CUSTOMER_FEATURES", "feat_customer_daily", "customer_id"),
        ("PRODUCT_FEATURES", "feat_product_daily", "product_id"),
    ],
)
def test_each_feature_view_serves_every_feature_column(
    features: str, model: str, entity_key: str
) -> None:
    assert feature_lists()[features] == table_features(model, entity_key)
