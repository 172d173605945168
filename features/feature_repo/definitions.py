"""The feature store's objects: the two entities, one feature view per dbt feature table, one
feature service per consumer (docs/features.md). Read by Feast's own `feast apply` in this
folder and by features/feast_tasks.py; runs in .venv-feast only.

The views read the dbt tables as they are: `as_of_at` is the event timestamp (a row holds only
what happened strictly before it), `dbt_built_at` the created timestamp. A view's ttl is how
far back a point-in-time join may look for a row: the tables have a row per entity per day, so
two days find the newest one and never a stale row of an erased or not-yet-registered entity.
"""

from __future__ import annotations

from datetime import timedelta

from feast import Entity, FeatureService, FeatureView, Field, ValueType
from feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source import (
    PostgreSQLSource,
)
from feast.types import Float64, Int64, String

OWNER = "data-science@shopflow.example"
ROW_LOOKBACK = timedelta(days=2)

customer = Entity(
    name="customer",
    join_keys=["customer_id"],
    value_type=ValueType.INT64,
    description="A customer of the shop (ops customer_id).",
    owner=OWNER,
)

product = Entity(
    name="product",
    join_keys=["product_id"],
    value_type=ValueType.INT64,
    description="A catalogue product (storefront product_id).",
    owner=OWNER,
)

customer_daily_source = PostgreSQLSource(
    name="feat_customer_daily",
    table="features.feat_customer_daily",
    timestamp_field="as_of_at",
    created_timestamp_column="dbt_built_at",
    description="dbt model feat_customer_daily: one row per customer and as-of day.",
    owner=OWNER,
)

product_daily_source = PostgreSQLSource(
    name="feat_product_daily",
    table="features.feat_product_daily",
    timestamp_field="as_of_at",
    created_timestamp_column="dbt_built_at",
    description="dbt model feat_product_daily: one row per product and as-of day.",
    owner=OWNER,
)

CUSTOMER_FEATURES: dict[str, type] = {
    "country_code": String,
    "orders_last_30_days": Int64,
    "orders_last_90_days": Int64,
    "orders_last_365_days": Int64,
    "orders_to_date": Int64,
    "revenue_last_30_days_usd": Float64,
    "revenue_last_90_days_usd": Float64,
    "revenue_last_365_days_usd": Float64,
    "revenue_to_date_usd": Float64,
    "average_order_value_usd": Float64,
    "days_since_last_order": Int64,
    "recency_score": Int64,
    "frequency_score": Int64,
    "monetary_score": Int64,
    "events_last_7_days": Int64,
    "events_last_30_days": Int64,
    "views_last_7_days": Int64,
    "views_last_30_days": Int64,
    "purchases_last_7_days": Int64,
    "purchases_last_30_days": Int64,
    "view_to_purchase_rate_last_7_days": Float64,
    "view_to_purchase_rate_last_30_days": Float64,
}
"""The customer features by name and Feast type, as the dbt model's columns."""

PRODUCT_FEATURES: dict[str, type] = {
    "currency_code": String,
    "sales_last_30_days": Int64,
    "units_sold_last_30_days": Int64,
    "revenue_last_30_days_usd": Float64,
    "views_last_30_days": Int64,
    "purchases_last_30_days": Int64,
    "view_to_purchase_rate_last_30_days": Float64,
    "list_price": Float64,
}
"""The product features by name and Feast type, as the dbt model's columns."""

customer_daily = FeatureView(
    name="customer_daily",
    entities=[customer],
    ttl=ROW_LOOKBACK,
    schema=[Field(name=name, dtype=dtype) for name, dtype in CUSTOMER_FEATURES.items()],
    source=customer_daily_source,
    online=True,
    description="Customer features as of each day (dbt feat_customer_daily).",
    owner=OWNER,
)

product_daily = FeatureView(
    name="product_daily",
    entities=[product],
    ttl=ROW_LOOKBACK,
    schema=[Field(name=name, dtype=dtype) for name, dtype in PRODUCT_FEATURES.items()],
    source=product_daily_source,
    online=True,
    description="Product features as of each day (dbt feat_product_daily).",
    owner=OWNER,
)

customer_value_scoring = FeatureService(
    name="customer_value_scoring",
    features=[customer_daily],
    description="The CRM scoring job's inputs: every customer feature (exposure "
    "customer_value_scoring; the baseline model in docs/features.md).",
    owner=OWNER,
)

product_recommendations = FeatureService(
    name="product_recommendations",
    features=[product_daily],
    description="The storefront's product ranking inputs: every product feature (exposure "
    "product_recommendations).",
    owner=OWNER,
)

OBJECTS = [
    customer,
    product,
    customer_daily_source,
    product_daily_source,
    customer_daily,
    product_daily,
    customer_value_scoring,
    product_recommendations,
]
"""Everything `features/feast_tasks.py apply` registers."""
