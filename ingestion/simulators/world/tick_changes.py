"""A tick's changes to existing master data: customers move or change their e-mail, prices
change, products are delisted and reviewed, and a few customers are erased (hard delete)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ingestion.simulators.world import tables
from ingestion.simulators.world.bulk_io import Cursor, copy_frame
from ingestion.simulators.world.catalogue import generate_reviews
from ingestion.simulators.world.customers import changed_emails, relocations
from ingestion.simulators.world.name_pools import NamePools
from ingestion.simulators.world.orders import popularity
from ingestion.simulators.world.randomness import Stream
from ingestion.simulators.world.sim_state import take_ids
from ingestion.simulators.world.tick_window import TickWindow
from ingestion.simulators.world.timestamps import with_iso_columns

log = logging.getLogger(__name__)

MOVE_RATE_PER_DAY = 0.0015
EMAIL_CHANGE_RATE_PER_DAY = 0.0007
PRICE_CHANGE_RATE_PER_DAY = 0.003
DELIST_RATE_PER_DAY = 0.0005
REVIEWS_PER_DAY = 4.0
ERASURE_SHARE = 0.002


@dataclass(frozen=True)
class CustomerChanges:
    moves: pd.DataFrame
    """``key, changed_at, country_code``: applies to orders placed after the move."""
    changed_ids: np.ndarray


def change_customers(
    cur: Cursor,
    window: TickWindow,
    pools: NamePools,
    customers: pd.DataFrame,
    days: float,
) -> CustomerChanges:
    """Some customers move (country, city, address), some change their e-mail."""
    rng = window.rng(Stream.CUSTOMER_CHANGES)
    count = len(customers)
    moves = rng.random(count) < min(0.5, MOVE_RATE_PER_DAY * days)
    new_email = rng.random(count) < min(0.5, EMAIL_CHANGE_RATE_PER_DAY * days)
    if count and not moves.any():
        moves[rng.integers(count)] = True  # every tick has at least one move (for SCD2)
    changed_at = window.times(rng, count)
    touched = moves | new_email
    changed = customers.loc[touched].reset_index(drop=True)
    changed["updated_at"] = changed_at[touched]
    moving = moves[touched]
    emailing = new_email[touched]
    movers = changed.loc[moving].reset_index(drop=True)
    homes = relocations(rng, pools, movers["country_code"].to_numpy())
    movers[["country_code", "city", "address"]] = homes[["country_code", "city", "address"]]
    fresh = changed_emails(rng, changed["email"], changed["customer_id"].to_numpy())
    changed["email"] = np.where(emailing, fresh.to_numpy(), changed["email"].to_numpy())
    tables.update_rows(cur, tables.CUSTOMERS, movers, ("country_code", "city", "address"))
    tables.update_rows(cur, tables.CUSTOMERS, changed, ("email", "updated_at"))
    return CustomerChanges(
        moves=pd.DataFrame(
            {
                "key": movers["customer_id"].to_numpy(),
                "changed_at": movers["updated_at"].to_numpy(),
                "country_code": movers["country_code"].to_numpy(),
            }
        ),
        changed_ids=changed["customer_id"].to_numpy(),
    )


@dataclass(frozen=True)
class CatalogueChanges:
    sellable: pd.DataFrame
    """Listed products that stay listed through the window (``product_id, sku, price``)."""
    price_changes: pd.DataFrame
    """``key, changed_at, price``."""
    delisted: int
    reviews: int


def change_catalogue(
    cur: Cursor,
    window: TickWindow,
    pools: NamePools,
    products: pd.DataFrame,
    days: float,
) -> CatalogueChanges:
    rng = window.rng(Stream.PRODUCT_CHANGES)
    listed = products.loc[~products["is_deleted"]].reset_index(drop=True)
    count = len(listed)
    delist = rng.random(count) < DELIST_RATE_PER_DAY * days
    reprice = (rng.random(count) < min(0.5, PRICE_CHANGE_RATE_PER_DAY * days)) & ~delist
    if count and not reprice.any() and not delist.all():
        reprice[rng.choice(np.nonzero(~delist)[0])] = True  # at least one price change a tick
    price_at = window.times(rng, count)
    delist_at = window.times(rng, count)
    old_price = listed["price"].to_numpy()
    factor = np.clip(1 + rng.normal(0.0, 0.12, size=count), 0.6, 1.5)
    new_price = np.maximum(np.floor(old_price * factor), 1.0) + 0.99
    new_price = np.where(new_price == old_price, old_price + 1.0, new_price)

    sellable = listed.loc[~delist, ["product_id", "sku", "price"]].reset_index(drop=True)
    review_count = int(rng.poisson(REVIEWS_PER_DAY * window.scale * days)) if count else 0
    weights = popularity(window.seed, sellable["product_id"].to_numpy())
    reviewed = (
        sellable["product_id"].to_numpy()[
            rng.choice(len(sellable), size=review_count, p=weights / weights.sum())
        ]
        if len(sellable) and review_count
        else np.empty(0, dtype=np.int64)
    )
    review_ids = take_ids(cur, "review", len(reviewed))
    reviews = generate_reviews(
        rng,
        pools,
        reviewed,
        window.times(rng, len(reviewed)),
        int(review_ids[0]) if len(review_ids) else 0,
    )

    touched = pd.concat(
        [
            pd.DataFrame({"product_id": listed["product_id"][reprice], "at": price_at[reprice]}),
            pd.DataFrame({"product_id": listed["product_id"][delist], "at": delist_at[delist]}),
            pd.DataFrame({"product_id": reviews["product_id"], "at": reviews["reviewed_at"]}),
        ],
        ignore_index=True,
    )
    updates = touched.groupby("product_id", as_index=False)["at"].max()
    updates = updates.rename(columns={"at": "updated_at"})
    changed_price = pd.Series(np.where(reprice, new_price, old_price), index=listed["product_id"])
    updates["price"] = changed_price.reindex(updates["product_id"]).to_numpy()
    updates["is_deleted"] = (
        pd.Series(delist, index=listed["product_id"]).reindex(updates["product_id"]).to_numpy()
    )
    tables.update_rows(cur, tables.PRODUCTS, updates, ("price", "is_deleted", "updated_at"))
    tables.copy_rows(cur, tables.PRODUCT_REVIEWS, reviews)
    return CatalogueChanges(
        sellable=sellable,
        price_changes=pd.DataFrame(
            {
                "key": listed["product_id"].to_numpy()[reprice],
                "changed_at": price_at[reprice],
                "price": new_price[reprice],
            }
        ),
        delisted=int(delist.sum()),
        reviews=len(reviews),
    )


def erase_customers(
    cur: Cursor, window: TickWindow, customer_ids: np.ndarray, protected: set[int]
) -> int:
    """Hard-delete about 0.2% of the customers (at least one); their orders lose the link."""
    rng = window.rng(Stream.ERASURE)
    if len(customer_ids) == 0:
        return 0
    eligible = customer_ids[~np.isin(customer_ids, list(protected))]
    count = min(len(eligible), max(1, round(ERASURE_SHARE * len(customer_ids))))
    if count == 0:
        return 0
    erased = pd.DataFrame(
        {
            "customer_id": np.sort(rng.choice(eligible, size=count, replace=False)),
            "erased_at": window.times(rng, count),
        }
    )
    cur.execute("create temporary table sim_erasures (customer_id bigint, erased_at timestamptz)")
    copy_frame(cur, "sim_erasures", with_iso_columns(erased, ("erased_at",)))
    cur.execute(
        "update ops.orders as o set customer_id = null, "
        "updated_at = greatest(o.updated_at, e.erased_at) "
        "from sim_erasures as e where o.customer_id = e.customer_id"
    )
    cur.execute(
        "delete from ops.customers where customer_id in (select customer_id from sim_erasures)"
    )
    cur.execute("drop table sim_erasures")
    log.info("erased %d customers", count)
    return count
