"""The feature store end to end, through `shopflow features ...` and Feast in .venv-feast, on the
session's pipeline run (scale 0.2), then on the same warehouse a week later (the tick erases a
customer or more): a training set at several past times equals an independent as-of
computation (tests/features/as_of_recompute.py), the online store holds the newest offline row
of every entity after `materialize`, and an erased customer leaves the online store at the next
`materialize` and has no features in any training set asked for afterwards.
Run by `make test-features` (it builds .venv-feast)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from ingestion.cli.app import app
from ingestion.features.feast_process import run_feast_task
from ingestion.settings import Settings
from tests.features.as_of_recompute import customer_features, load_facts, same
from tests.worlds import BuiltWarehouse

pytestmark = [pytest.mark.features, pytest.mark.integration, pytest.mark.slow]

TRAINING_TIMES = (
    datetime(2025, 1, 1, 12, 0),  # before the warehouse's first full day: no features
    datetime(2025, 3, 15, 10, 30),
    datetime(2025, 7, 1, 0, 0),  # exactly an as-of time: that day's row, nothing of the day
    datetime(2025, 9, 30, 23, 59, 59),  # the last instant before the next row
    datetime(2025, 12, 24, 8, 0),
)
CUSTOMERS_SAMPLED = 40


def shopflow(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def applied(built_warehouse: BuiltWarehouse) -> BuiltWarehouse:
    """The session's warehouse with its feature store registered and materialised."""
    shopflow("features", "apply")
    shopflow("features", "materialize")
    return built_warehouse


def customer_ids(warehouse: BuiltWarehouse) -> list[int]:
    return [
        int(customer_id)
        for (customer_id,) in warehouse.query(
            "select distinct customer_id from intermediate.int_customer_versions_windowed "
            "order by customer_id"
        )
    ]


def training_set(entities: pd.DataFrame, folder: Path) -> pd.DataFrame:
    source, out = folder / "entities.csv", folder / "training.parquet"
    entities.to_csv(source, index=False)
    shopflow("features", "training-set", "--entities", str(source), "--out", str(out))
    return pd.read_parquet(out)


def online_values(warehouse: BuiltWarehouse, ids: list[int], folder: Path) -> pd.DataFrame:
    source = folder / "online-entities.csv"
    pd.DataFrame({"customer_id": ids}).to_csv(source, index=False)
    answer = run_feast_task(
        ["online", "--entities", str(source)], Settings.from_environment(), warehouse.settings
    )
    return pd.DataFrame(answer["features"]).set_index("customer_id")


def utc_naive(value: object) -> datetime:
    """A timestamp of the training set as naive UTC, as the facts hold them."""
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    return (stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp).to_pydatetime()


def test_a_training_set_equals_an_independent_as_of_computation(
    applied: BuiltWarehouse, tmp_path: Path
) -> None:
    everyone = customer_ids(applied)
    ids = everyone[:: max(1, len(everyone) // CUSTOMERS_SAMPLED)]
    entities = pd.DataFrame(
        [(customer_id, at) for customer_id in ids for at in TRAINING_TIMES],
        columns=["customer_id", "event_timestamp"],
    )
    rows = training_set(entities, tmp_path)
    assert len(rows) == len(entities)
    facts = load_facts(applied)
    mismatches: list[str] = []
    with_features = 0
    for row in rows.itertuples(index=False):
        at = utc_naive(row.event_timestamp)
        expected = customer_features(facts, int(row.customer_id), at)
        if expected is None:
            if not pd.isna(row.orders_to_date):
                mismatches.append(f"customer {row.customer_id} at {at}: features, expected none")
            continue
        with_features += 1
        for name, value in expected.items():
            actual = getattr(row, name)
            if not same(actual, value):
                mismatches.append(f"customer {row.customer_id} at {at}: {name} {actual} != {value}")
    assert with_features > len(rows) // 2, "too few rows with features to prove anything"
    assert not mismatches, f"{len(mismatches)} mismatches, e.g. {mismatches[:10]}"


def test_the_online_store_holds_the_newest_offline_row(
    applied: BuiltWarehouse, tmp_path: Path
) -> None:
    newest = pd.DataFrame(
        applied.query(
            "select customer_id, orders_to_date, revenue_to_date_usd, country_code, "
            "recency_score from features.feat_customer_daily "
            "where as_of_date = (select max(as_of_date) from features.feat_customer_daily)"
        ),
        columns=["customer_id", "orders_to_date", "revenue_to_date_usd", "country_code", "rfm"],
    ).set_index("customer_id")
    online = online_values(applied, [int(i) for i in newest.index], tmp_path)
    assert len(newest) > 0
    for customer_id, expected in newest.iterrows():
        served = online.loc[customer_id]
        assert served["orders_to_date"] == expected["orders_to_date"], customer_id
        assert same(served["revenue_to_date_usd"], float(expected["revenue_to_date_usd"]))
        assert served["country_code"] == expected["country_code"], customer_id
        assert same(served["recency_score"], expected["rfm"]), customer_id


def test_an_erased_customer_leaves_the_online_store_and_later_training_sets(
    applied: BuiltWarehouse,
    ticked_warehouse: tuple[BuiltWarehouse, Result],
    tmp_path: Path,
) -> None:
    warehouse, _ = ticked_warehouse
    erased = [
        int(customer_id)
        for (customer_id,) in warehouse.query(
            "select distinct customer_id from intermediate.int_customer_versions_windowed "
            "where is_erased"
        )
    ]
    assert erased, "the tick erased no customer: the test proves nothing"
    before = online_values(warehouse, erased, tmp_path)
    assert before["orders_to_date"].notna().all(), "the erased were not online before the run"
    shopflow("features", "materialize")
    after = online_values(warehouse, erased, tmp_path)
    assert after.isna().all().all(), after
    rows = training_set(
        pd.DataFrame({"customer_id": erased, "event_timestamp": TRAINING_TIMES[-1]}), tmp_path
    )
    assert rows["orders_to_date"].isna().all(), rows
