"""The one shared product catalogue: products with tags, images and reviews (all USD).

The storefront API serves these rows; orders, marketplace sales and clickstream events all
refer to the same products by id and SKU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ingestion.simulators.world.name_pools import NamePools
from ingestion.simulators.world.reference_data import (
    ADJECTIVES,
    BRANDS,
    CATEGORIES,
    IMAGE_SIZES,
    IMAGE_URL_PREFIX,
    TAGS,
)

RATINGS = np.array([1, 2, 3, 4, 5])
RATING_WEIGHTS = np.array([0.05, 0.07, 0.15, 0.33, 0.40])
REVIEWER_DOMAINS = np.array(["example.com", "mail.example", "inbox.example"], dtype=object)


@dataclass(frozen=True)
class Catalogue:
    """Frames ready for COPY into the ``storefront`` tables."""

    products: pd.DataFrame
    tags: pd.DataFrame
    images: pd.DataFrame
    reviews: pd.DataFrame


def skus(product_ids: np.ndarray) -> pd.Series:
    """``SKU-%06d`` for each product id."""
    return "SKU-" + pd.Series(product_ids, dtype="int64").astype(str).str.zfill(6)


def usd_prices(rng: np.random.Generator, typical: np.ndarray) -> np.ndarray:
    """Shop prices ending in .99, log-normally spread around each category's typical price."""
    raw = typical * np.exp(rng.normal(0.0, 0.5, size=len(typical)))
    return np.maximum(np.floor(raw), 1.0) + 0.99


def generate_products(
    rng: np.random.Generator, product_ids: np.ndarray, created_at: np.ndarray
) -> pd.DataFrame:
    """Products (without children) created at the given epoch seconds; none delisted."""
    count = len(product_ids)
    names = list(CATEGORIES)
    category_index = rng.integers(0, len(names), size=count)
    typical = np.array([CATEGORIES[name][0] for name in names])[category_index]
    nouns = np.array(
        [CATEGORIES[name][1][i] for name in names for i in range(len(CATEGORIES[name][1]))],
        dtype=object,
    ).reshape(len(names), -1)
    noun = nouns[category_index, rng.integers(0, nouns.shape[1], size=count)]
    brand = np.array(BRANDS, dtype=object)[rng.integers(0, len(BRANDS), size=count)]
    adjective = np.array(ADJECTIVES, dtype=object)[rng.integers(0, len(ADJECTIVES), size=count)]
    model = rng.integers(1, 100, size=count) * 10
    title = pd.Series(brand) + " " + adjective + " " + noun + " " + model.astype(str)
    stock = np.where(rng.random(count) < 0.05, 0, rng.integers(1, 500, size=count))
    return pd.DataFrame(
        {
            "product_id": product_ids,
            "sku": skus(product_ids),
            "title": title,
            "brand": brand,
            "category": np.array(names, dtype=object)[category_index],
            "price": usd_prices(rng, typical),
            "currency": "USD",
            "stock": stock,
            "is_deleted": False,
            "created_at": created_at,
            "updated_at": created_at,
        }
    )


def generate_tags(rng: np.random.Generator, product_ids: np.ndarray) -> pd.DataFrame:
    """One to four distinct tags per product."""
    count = len(product_ids)
    per_product = rng.integers(1, 5, size=count)
    order = np.argsort(rng.random((count, len(TAGS))), axis=1)[:, :4]
    keep = np.arange(4)[None, :] < per_product[:, None]
    rows, positions = np.nonzero(keep)
    return pd.DataFrame(
        {
            "product_id": product_ids[rows],
            "tag": np.array(TAGS, dtype=object)[order[rows, positions]],
        }
    )


def generate_images(rng: np.random.Generator, product_ids: np.ndarray) -> pd.DataFrame:
    """One to three images per product, positions 1..n."""
    per_product = rng.integers(1, 4, size=len(product_ids))
    owner = np.repeat(product_ids, per_product)
    position = np.arange(len(owner)) - np.repeat(np.cumsum(per_product) - per_product, per_product)
    position = position + 1
    size = np.array(IMAGE_SIZES)[rng.integers(0, len(IMAGE_SIZES), size=len(owner))]
    url = (
        IMAGE_URL_PREFIX
        + pd.Series(owner).astype(str)
        + "/"
        + pd.Series(position).astype(str)
        + ".jpg"
    )
    return pd.DataFrame(
        {
            "product_id": owner,
            "position": position,
            "url": url,
            "width": size[:, 0],
            "height": size[:, 1],
        }
    )


def generate_reviews(
    rng: np.random.Generator,
    pools: NamePools,
    product_ids: np.ndarray,
    reviewed_at: np.ndarray,
    first_review_id: int,
) -> pd.DataFrame:
    """One review per entry of ``product_ids``, written at the matching ``reviewed_at``."""
    count = len(product_ids)
    sentences = pools.review_sentences
    first = rng.integers(0, len(sentences), size=count)
    second = rng.integers(0, len(sentences), size=count)
    two = rng.random(count) < 0.4
    comment = pd.Series(sentences[first]).where(
        ~two, pd.Series(sentences[first]) + " " + sentences[second]
    )
    first_index = rng.integers(0, len(pools.reviewer_first_names), size=count)
    last_index = rng.integers(0, len(pools.reviewer_last_names), size=count)
    first_name = pd.Series(pools.reviewer_first_names[first_index])
    last_name = pd.Series(pools.reviewer_last_names[last_index])
    email = (
        first_name.str.lower()
        + "."
        + last_name.str.lower().str.replace(r"[^a-z]", "", regex=True)
        + rng.integers(1, 1000, size=count).astype(str)
        + "@"
        + REVIEWER_DOMAINS[rng.integers(0, len(REVIEWER_DOMAINS), size=count)]
    )
    review_ids = first_review_id + np.arange(count, dtype=np.int64)
    return pd.DataFrame(
        {
            "review_id": review_ids,
            "product_id": product_ids,
            "rating": rng.choice(RATINGS, size=count, p=RATING_WEIGHTS),
            "comment": comment,
            "reviewer_name": first_name + " " + last_name,
            "reviewer_email": email,
            "reviewed_at": reviewed_at,
        }
    )


def generate_catalogue(
    rng: np.random.Generator,
    pools: NamePools,
    product_ids: np.ndarray,
    created_start: int,
    created_end: int,
    now: int,
) -> Catalogue:
    """A fresh catalogue: products created in ``[created_start, created_end)``, reviewed
    before ``now``; each product's ``updated_at`` is at or after its latest review."""
    count = len(product_ids)
    created_at = np.sort(rng.integers(created_start, created_end, size=count))
    products = generate_products(rng, product_ids, created_at)
    reviews_per_product = np.minimum(rng.poisson(3.0, size=count), 12)
    reviewed_product = np.repeat(product_ids, reviews_per_product)
    start = np.repeat(created_at, reviews_per_product)
    reviewed_at = start + (rng.random(len(start)) * (now - start)).astype(np.int64)
    reviews = generate_reviews(rng, pools, reviewed_product, reviewed_at, first_review_id=1)
    edited = rng.random(count) < 0.4
    edited_at = created_at + (rng.random(count) * (now - created_at)).astype(np.int64)
    latest_review = (
        reviews.groupby("product_id")["reviewed_at"].max().reindex(product_ids).fillna(0)
    ).to_numpy(dtype=np.int64)
    products["updated_at"] = np.maximum.reduce(
        [created_at, np.where(edited, edited_at, created_at), latest_review]
    )
    return Catalogue(
        products=products,
        tags=generate_tags(rng, product_ids),
        images=generate_images(rng, product_ids),
        reviews=reviews,
    )
