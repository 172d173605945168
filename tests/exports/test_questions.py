"""The registry of named questions: marts or the semantic layer's saved queries only, explicit
columns, stable order, as-of rules."""

from __future__ import annotations

import re
from datetime import date

import pytest
import yaml

from ingestion.exports import (
    QUESTIONS,
    AsOfNotSupportedError,
    UnknownQuestionError,
    question,
)
from ingestion.exports.exporter import check_as_of
from ingestion.settings import REPO_ROOT

SAVED_QUERIES = {
    query["name"]
    for query in yaml.safe_load(
        (REPO_ROOT / "dbt_project/models/marts/_marts__saved_queries.yml").read_text()
    )["saved_queries"]
}

EXPECTED = {
    "open_orders",
    "pending_items",
    "top_delivery_dates",
    "open_orders_by_delivery_date",
    "customers_with_open_orders",
    "top_customers",
    "monthly_revenue",
    "monthly_revenue_by_channel",
    "aov_by_country",
    "best_sellers",
}
WITH_AS_OF = {
    "open_orders",
    "top_delivery_dates",
    "open_orders_by_delivery_date",
    "monthly_revenue",
    "monthly_revenue_by_channel",
}


def test_every_named_question_is_registered() -> None:
    assert set(QUESTIONS) == EXPECTED
    assert all(name == item.name for name, item in QUESTIONS.items())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_question_reads_only_its_marts_with_explicit_columns_in_a_stable_order(
    name: str,
) -> None:
    item = QUESTIONS[name]
    text = " ".join(item.sql.split())
    assert item.description and item.as_of_note
    assert "*" not in text
    assert re.search(r" order by [^)]+$", text), "the last clause is the ORDER BY"
    read = set(re.findall(r"(?:from|join) \{marts\}\.(\w+)", text))
    if item.saved_query is not None:
        assert item.saved_query in SAVED_QUERIES
        assert read == set() and "from ({metrics}) as answer" in text
        assert not re.search(r"(?:from|join) (?!\(\{metrics\}\))", text), "only the query"
        return
    assert read == set(item.relations)
    assert not re.search(r"(?:from|join) (?!\{marts\})", text), "every relation is a mart"


def test_the_aggregates_come_from_the_semantic_layer() -> None:
    """Figures a metric answers are defined once: the questions of totals read saved queries;
    the row-level lists and rankings read their marts."""
    from_metrics = {name for name, item in QUESTIONS.items() if item.saved_query}
    assert from_metrics == {"monthly_revenue", "monthly_revenue_by_channel", "aov_by_country"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_as_of_is_a_condition_exactly_where_the_sql_has_a_place_for_it(name: str) -> None:
    item = QUESTIONS[name]
    assert item.supports_as_of == (name in WITH_AS_OF)
    assert ("{as_of}" in item.sql) == item.supports_as_of
    if item.as_of_predicate:
        assert "%(as_of)s" in item.as_of_predicate


def test_an_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownQuestionError) as caught:
        question("open_order")
    assert "'open_order'" in str(caught.value)
    for name in EXPECTED:
        assert name in str(caught.value)


def test_as_of_is_refused_with_the_reason_where_it_makes_no_sense() -> None:
    check_as_of(question("open_orders"), date(2026, 1, 1))
    check_as_of(question("top_customers"), None)
    with pytest.raises(AsOfNotSupportedError, match="top_customers has no --as-of date"):
        check_as_of(question("top_customers"), date(2026, 1, 1))
