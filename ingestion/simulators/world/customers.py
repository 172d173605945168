"""Customers of the order system: who they are, where they live, and how that changes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ingestion.simulators.world.name_pools import NamePools
from ingestion.simulators.world.reference_data import (
    COUNTRIES,
    COUNTRY_WEIGHTS,
    PHONE_PREFIX,
)

EMAIL_DOMAINS = np.array(
    ["gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com", "gmx.net"],
    dtype=object,
)


def pick_countries(rng: np.random.Generator, count: int) -> np.ndarray:
    """Countries drawn with the world's country mix."""
    weights = np.array(COUNTRY_WEIGHTS) / sum(COUNTRY_WEIGHTS)
    return np.array(COUNTRIES, dtype=object)[rng.choice(len(COUNTRIES), size=count, p=weights)]


def places(
    rng: np.random.Generator, pools: NamePools, countries: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A city and a street address in each given country."""
    city = np.empty(len(countries), dtype=object)
    address = np.empty(len(countries), dtype=object)
    for country in np.unique(countries):
        rows = np.nonzero(countries == country)[0]
        pool = pools.countries[country]
        city[rows] = pool.cities[rng.integers(0, len(pool.cities), size=len(rows))]
        address[rows] = pool.streets[rng.integers(0, len(pool.streets), size=len(rows))]
    return city, address


def emails(
    rng: np.random.Generator, first_slugs: np.ndarray, last_slugs: np.ndarray, ids: np.ndarray
) -> pd.Series:
    """``first.last<id>@domain`` (ASCII), unique through the customer id."""
    domain = EMAIL_DOMAINS[rng.integers(0, len(EMAIL_DOMAINS), size=len(ids))]
    return (
        pd.Series(first_slugs, dtype=object)
        + "."
        + last_slugs
        + pd.Series(ids).astype(str).to_numpy(dtype=object)
        + "@"
        + domain
    )


def generate_customers(
    rng: np.random.Generator,
    pools: NamePools,
    customer_ids: np.ndarray,
    registered_at: np.ndarray,
) -> pd.DataFrame:
    """New customers registered at the given epoch seconds (``updated_at`` = registration)."""
    count = len(customer_ids)
    country = pick_countries(rng, count)
    first = np.empty(count, dtype=object)
    last = np.empty(count, dtype=object)
    first_slug = np.empty(count, dtype=object)
    last_slug = np.empty(count, dtype=object)
    for code in np.unique(country):
        rows = np.nonzero(country == code)[0]
        pool = pools.countries[code]
        first_index = rng.integers(0, len(pool.first_names), size=len(rows))
        last_index = rng.integers(0, len(pool.last_names), size=len(rows))
        first[rows] = pool.first_names[first_index]
        last[rows] = pool.last_names[last_index]
        first_slug[rows] = pool.first_slugs[first_index]
        last_slug[rows] = pool.last_slugs[last_index]
    city, address = places(rng, pools, country)
    prefix = pd.Series(country).map(PHONE_PREFIX)
    number = pd.Series(rng.integers(100_000_000, 999_999_999, size=count)).astype(str)
    phone = prefix + " " + number
    phone = phone.where(rng.random(count) >= 0.1)
    return pd.DataFrame(
        {
            "customer_id": customer_ids,
            "first_name": first,
            "last_name": last,
            "email": emails(rng, first_slug, last_slug, customer_ids),
            "phone": phone,
            "country_code": country,
            "city": city,
            "address": address,
            "registered_at": registered_at,
            "created_at": registered_at,
            "updated_at": registered_at,
        }
    )


def relocations(
    rng: np.random.Generator, pools: NamePools, current_countries: np.ndarray
) -> pd.DataFrame:
    """New homes for movers: most stay in their country, one in five moves abroad."""
    abroad = rng.random(len(current_countries)) < 0.2
    country = np.where(abroad, pick_countries(rng, len(current_countries)), current_countries)
    city, address = places(rng, pools, country)
    return pd.DataFrame({"country_code": country, "city": city, "address": address})


def changed_emails(
    rng: np.random.Generator, old_emails: pd.Series, customer_ids: np.ndarray
) -> pd.Series:
    """A new address for each customer: same local part plus a number, on another domain."""
    local = old_emails.reset_index(drop=True).str.split("@").str[0]
    local = local.str.replace(r"\+.*$", "", regex=True)
    domain = EMAIL_DOMAINS[rng.integers(0, len(EMAIL_DOMAINS), size=len(customer_ids))]
    suffix = rng.integers(1, 99, size=len(customer_ids)).astype(str)
    return local + "+" + suffix + "@" + domain
