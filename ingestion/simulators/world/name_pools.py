"""Pools of names, cities, streets and review sentences drawn once from Faker (seeded).

Generating millions of rows calls Faker only a few thousand times: rows sample from these
pools with numpy. Each country has its own pools in its own locale.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from faker import Faker

from ingestion.simulators.world.reference_data import COUNTRIES, COUNTRY_LOCALE

FIRST_NAMES = 300
LAST_NAMES = 300
CITIES = 150
STREETS = 400
SENTENCES = 400


@dataclass(frozen=True)
class CountryPool:
    """Names and places of one country."""

    first_names: np.ndarray
    last_names: np.ndarray
    cities: np.ndarray
    streets: np.ndarray
    first_slugs: np.ndarray
    last_slugs: np.ndarray


@dataclass(frozen=True)
class NamePools:
    """Everything the world samples text from."""

    countries: dict[str, CountryPool]
    review_sentences: np.ndarray
    reviewer_first_names: np.ndarray
    reviewer_last_names: np.ndarray


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits only (for e-mail local parts)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower()) or "user"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cities(fake: Faker) -> list[str]:
    """``CITIES`` city names drawn with the seeded generator.

    A locale that lists its cities (it_IT builds that list from a set, so its order changes
    with Python's hash seed from one process to the next) is drawn from the sorted list:
    the same seed gives the same cities in every process.
    """
    listed = next(
        (
            provider.cities
            for provider in fake.get_providers()
            if isinstance(getattr(provider, "cities", None), list | tuple)
        ),
        None,
    )
    if not listed:
        return [_one_line(fake.city()) for _ in range(CITIES)]
    ordered = sorted(listed)
    return [_one_line(ordered[fake.random.randrange(len(ordered))]) for _ in range(CITIES)]


@lru_cache(maxsize=4)
def name_pools(seed: int) -> NamePools:
    """The pools for one seed (cached: building them takes about a second)."""
    countries = {}
    for index, country in enumerate(COUNTRIES):
        fake = Faker(COUNTRY_LOCALE[country])
        fake.seed_instance(seed * 100 + index)
        first_names = [fake.first_name() for _ in range(FIRST_NAMES)]
        last_names = [fake.last_name() for _ in range(LAST_NAMES)]
        countries[country] = CountryPool(
            first_names=np.array(first_names, dtype=object),
            last_names=np.array(last_names, dtype=object),
            cities=np.array(_cities(fake), dtype=object),
            streets=np.array(
                [_one_line(fake.street_address()) for _ in range(STREETS)], dtype=object
            ),
            first_slugs=np.array([ascii_slug(name) for name in first_names], dtype=object),
            last_slugs=np.array([ascii_slug(name) for name in last_names], dtype=object),
        )
    fake = Faker("en_US")
    fake.seed_instance(seed * 100 + 99)
    return NamePools(
        countries=countries,
        review_sentences=np.array(
            [fake.sentence(nb_words=10) for _ in range(SENTENCES)], dtype=object
        ),
        reviewer_first_names=np.array([fake.first_name() for _ in range(200)], dtype=object),
        reviewer_last_names=np.array([fake.last_name() for _ in range(200)], dtype=object),
    )
