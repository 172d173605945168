"""The models a partial build leaves stale (downstream of a table that failed to load), and how
the report says so."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from ingestion.reporting.page import render_page
from ingestion.transform.stale_models import StaleModel, describe_stale, exclusions, stale_nodes


def test_the_stale_models_are_those_downstream_of_a_failed_table(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    nodes = {
        "model.p.stg_customers": {"resource_type": "model", "name": "stg_customers"},
        "model.p.dim_customers": {"resource_type": "model", "name": "dim_customers"},
        "test.p.unique_dim": {"resource_type": "test", "name": "unique_dim"},
        "snapshot.p.snap": {"resource_type": "snapshot", "name": "snap"},
        "model.p.stg_orders": {"resource_type": "model", "name": "stg_orders"},
    }
    children = {
        "source.p.ops.customers": ["model.p.stg_customers", "snapshot.p.snap"],
        "model.p.stg_customers": ["model.p.dim_customers"],
        "model.p.dim_customers": ["test.p.unique_dim"],
        "source.p.ops.orders": ["model.p.stg_orders"],
    }
    sources = {"source.p.ops.customers": {}, "source.p.ops.orders": {}}
    document = {"nodes": nodes, "child_map": children, "sources": sources}
    manifest.write_text(json.dumps(document))
    assert stale_nodes(manifest, [("ops", "customers")]) == {
        "dim_customers": "ops.customers",
        "snap": "ops.customers",
        "stg_customers": "ops.customers",
    }
    assert stale_nodes(tmp_path / "missing.json", [("ops", "customers")]) == {}
    assert exclusions([("ops", "customers"), ("ops", "customers")]) == ["source:ops.customers+"]


def test_the_report_says_which_models_are_stale() -> None:
    stale = [StaleModel("run-1", "dim_customers", "ops.customers")]
    notice = describe_stale(stale)
    assert "1 model(s) stale" in notice and "ops.customers failed to load" in notice
    page = render_page([], datetime(2026, 1, 1, tzinfo=UTC), None, "w", stale_notice=notice + "<b>")
    assert 'id="stale-models"' in page and "dim_customers" in page and "<b>" not in page
    assert 'id="stale-models"' not in render_page([], datetime(2026, 1, 1, tzinfo=UTC), None, "w")
