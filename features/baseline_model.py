"""The feature store's first consumer: a baseline model of "orders again within 90 days" from
the customer features (feature service `customer_value_scoring`), trained on training sets at
monthly cut-offs and evaluated on a later period whose labels start after every training
label ended. Runs in .venv-feast (scikit-learn), through `shopflow features baseline`.

The label of a (customer, cut-off) row is whether the customer places an order in the 90 days
from the cut-off; rows are the customers with a feature row that day (registered, not erased).
The model is deliberately plain (imputation, scaling, logistic regression on the numeric
features) so that its figure is a floor a real model must beat; beside it, the ranking by
recency alone (days since the last order) shows what the features add.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
from feast import FeatureStore
from psycopg import Connection
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HORIZON = timedelta(days=90)
SERVICE = "customer_value_scoring"
LABEL = "orders_again_within_90_days"
TEXT_FEATURES = ("country_code",)


def month_starts(first: date, last: date) -> list[date]:
    months = []
    current = date(first.year, first.month, 1)
    while current <= last:
        months.append(current)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return months


def labelled_rows(connection: Connection[Any], cutoffs: list[date]) -> pd.DataFrame:
    """(customer_id, event_timestamp, label) for every customer with a feature row on each
    cut-off: the label reads the orders of the 90 days from the cut-off."""
    rows = connection.execute(
        """
        select
            features.customer_id,
            features.as_of_at,
            exists (
                select 1 from intermediate.int_orders_summarised as orders
                where orders.customer_id = features.customer_id
                    and orders.ordered_at >= features.as_of_at
                    and orders.ordered_at < features.as_of_at + %s
            )
        from features.feat_customer_daily as features
        where features.as_of_date = any(%s)
        """,
        (HORIZON, cutoffs),
    ).fetchall()
    frame = pd.DataFrame(rows, columns=["customer_id", "event_timestamp", LABEL])
    frame["event_timestamp"] = pd.to_datetime(frame["event_timestamp"], utc=True)
    return frame


def evaluate(feature_store: FeatureStore, connection: Connection[Any]) -> dict[str, Any]:
    """Train on the cut-offs whose labels end before the evaluation period starts, evaluate on
    the cut-offs after it whose 90 days are complete; ROC AUC of the model and of recency."""
    first, last = connection.execute(
        "select min(as_of_date), max(as_of_date) from features.feat_customer_daily"
    ).fetchone()  # type: ignore[misc]
    last_labelled = last - HORIZON
    evaluation_start = last_labelled - timedelta(days=60)
    cutoffs = month_starts(first + timedelta(days=30), last_labelled)
    train_cutoffs = [day for day in cutoffs if day + HORIZON <= evaluation_start]
    test_cutoffs = [day for day in cutoffs if day >= evaluation_start]
    service = feature_store.get_feature_service(SERVICE)

    def training_set(days: list[date]) -> pd.DataFrame:
        return feature_store.get_historical_features(
            entity_df=labelled_rows(connection, days), features=service
        ).to_df()

    train, test = training_set(train_cutoffs), training_set(test_cutoffs)
    features = [
        column
        for column in train.columns
        if column not in ("customer_id", "event_timestamp", LABEL, *TEXT_FEATURES)
    ]
    model = make_pipeline(
        SimpleImputer(strategy="median", keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    )
    model.fit(train[features].astype(float), train[LABEL])
    scores = model.predict_proba(test[features].astype(float))[:, 1]
    # recency alone: the more days since the last order (none: the most), the less likely
    recency = -test["days_since_last_order"].astype(float).fillna(10_000)
    return {
        "train_cutoffs": [str(day) for day in train_cutoffs],
        "test_cutoffs": [str(day) for day in test_cutoffs],
        "train_rows": len(train),
        "test_rows": len(test),
        "test_positive_rate": round(float(test[LABEL].mean()), 3),
        "roc_auc": round(float(roc_auc_score(test[LABEL], scores)), 3),
        "roc_auc_recency_only": round(float(roc_auc_score(test[LABEL], recency)), 3),
        "features": len(features),
    }
