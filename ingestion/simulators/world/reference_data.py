"""Fixed reference data of the simulated world: countries, currencies, catalogue vocabulary.

Everything here is part of the contract in ``docs/source-systems.md`` or a documented choice
of the simulator (exchange rates, category list, partner names, campaign names).
"""

from __future__ import annotations

from datetime import UTC, datetime

BUSINESS_YEAR_START = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
"""Epoch seconds of the first instant of business year 2025 (the initial state's orders)."""
BUSINESS_YEAR_END = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
"""Epoch seconds at which the clock stands after the initial build."""
CATALOGUE_START = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
"""Products of the initial catalogue are created between this instant and 2025-01-01."""
FIRST_REGISTRATION = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp())
"""The earliest customer registration of the initial state."""
DAY = 86_400

COUNTRIES: tuple[str, ...] = ("US", "CA", "GB", "IE", "FR", "DE", "ES", "IT", "NL", "AU")
COUNTRY_WEIGHTS: tuple[float, ...] = (0.30, 0.06, 0.15, 0.03, 0.11, 0.13, 0.07, 0.06, 0.04, 0.05)
COUNTRY_CURRENCY: dict[str, str] = {
    "US": "USD",
    "CA": "CAD",
    "GB": "GBP",
    "AU": "AUD",
    "IE": "EUR",
    "FR": "EUR",
    "DE": "EUR",
    "ES": "EUR",
    "IT": "EUR",
    "NL": "EUR",
}
COUNTRY_LOCALE: dict[str, str] = {
    "US": "en_US",
    "CA": "en_CA",
    "GB": "en_GB",
    "IE": "en_IE",
    "FR": "fr_FR",
    "DE": "de_DE",
    "ES": "es_ES",
    "IT": "it_IT",
    "NL": "nl_NL",
    "AU": "en_AU",
}
PHONE_PREFIX: dict[str, str] = {
    "US": "+1",
    "CA": "+1",
    "GB": "+44",
    "IE": "+353",
    "FR": "+33",
    "DE": "+49",
    "ES": "+34",
    "IT": "+39",
    "NL": "+31",
    "AU": "+61",
}

USD_EXCHANGE_RATES: dict[str, float] = {
    "USD": 1.0,
    "EUR": 0.92,
    "GBP": 0.79,
    "CAD": 1.36,
    "AUD": 1.52,
}
"""Units of each currency per US dollar: the simulator's one fixed rate table."""

CATEGORIES: dict[str, tuple[float, tuple[str, ...]]] = {
    "Electronics": (120.0, ("Headphones", "Speaker", "Charger", "Smartwatch", "Camera")),
    "Home & Kitchen": (45.0, ("Kettle", "Pan", "Knife Set", "Blender", "Lamp")),
    "Clothing": (40.0, ("T-Shirt", "Jacket", "Jeans", "Sweater", "Dress")),
    "Shoes": (80.0, ("Sneakers", "Boots", "Sandals", "Loafers", "Running Shoes")),
    "Sports & Outdoors": (60.0, ("Tent", "Yoga Mat", "Backpack", "Water Bottle", "Bike Light")),
    "Beauty": (25.0, ("Face Cream", "Shampoo", "Perfume", "Lip Balm", "Serum")),
    "Toys & Games": (30.0, ("Puzzle", "Board Game", "Building Set", "Plush Toy", "Kite")),
    "Books": (18.0, ("Novel", "Cookbook", "Travel Guide", "Notebook", "Atlas")),
    "Garden": (35.0, ("Planter", "Hose", "Pruner", "Seed Kit", "Bird Feeder")),
    "Pet Supplies": (22.0, ("Dog Bed", "Cat Tree", "Leash", "Pet Bowl", "Chew Toy")),
}
"""Category -> (typical USD price, product nouns)."""

BRANDS: tuple[str, ...] = (
    "Northwind",
    "Acme",
    "Lumen",
    "Verdant",
    "Solstice",
    "Halcyon",
    "Quarry",
    "Brightline",
    "Kestrel",
    "Marlow",
    "Oakridge",
    "Tidewater",
    "Pinnacle",
    "Everly",
    "Fjord",
    "Calder",
)
ADJECTIVES: tuple[str, ...] = (
    "Classic",
    "Compact",
    "Deluxe",
    "Eco",
    "Essential",
    "Lightweight",
    "Pro",
    "Premium",
    "Smart",
    "Ultra",
    "Vintage",
    "Everyday",
)
TAGS: tuple[str, ...] = (
    "bestseller",
    "new",
    "eco-friendly",
    "gift",
    "summer",
    "winter",
    "outdoor",
    "indoor",
    "premium",
    "budget",
    "limited-edition",
    "handmade",
    "organic",
    "travel",
    "kids",
)
IMAGE_SIZES: tuple[tuple[int, int], ...] = ((800, 600), (1024, 768), (1200, 1200), (600, 800))
IMAGE_URL_PREFIX = "https://cdn.shopflow.example/products/"
"""Image URLs are ``<prefix><product_id>/<position>.jpg``."""

CHANNELS: tuple[str, ...] = ("web", "app", "store")
CHANNEL_WEIGHTS: tuple[float, ...] = (0.55, 0.35, 0.10)
PAYMENT_METHODS: tuple[str, ...] = (
    "card",
    "paypal",
    "bank_transfer",
    "gift_card",
    "cash_on_delivery",
)
PAYMENT_METHOD_WEIGHTS: tuple[float, ...] = (0.55, 0.25, 0.08, 0.05, 0.07)
LINES_PER_ORDER: tuple[int, ...] = (1, 2, 3, 4)
LINES_PER_ORDER_WEIGHTS: tuple[float, ...] = (0.50, 0.28, 0.15, 0.07)
QUANTITIES: tuple[int, ...] = (1, 2, 3, 5)
QUANTITY_WEIGHTS: tuple[float, ...] = (0.75, 0.17, 0.06, 0.02)
DISCOUNTS: tuple[float, ...] = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5)
DISCOUNT_WEIGHTS: tuple[float, ...] = (0.70, 0.08, 0.08, 0.05, 0.04, 0.02, 0.02, 0.01)

CARRIERS_BY_CURRENCY: dict[str, tuple[str, ...]] = {
    "USD": ("USPS", "UPS", "FedEx"),
    "CAD": ("UPS", "FedEx"),
    "GBP": ("Royal Mail", "DHL"),
    "AUD": ("DHL", "FedEx"),
    "EUR": ("DHL", "La Poste", "UPS"),
}

MARKETPLACE_PARTNERS: dict[str, tuple[str, tuple[str, ...], float]] = {
    "Amazon": ("AMZ", ("USD", "GBP", "EUR"), 0.55),
    "eBay": ("EBY", ("USD", "GBP"), 0.25),
    "Zalando": ("ZAL", ("EUR",), 0.20),
}
"""Partner -> (order id prefix, currencies it sells in, share of marketplace volume)."""
MARKETPLACE_SHARE = 0.10
"""Marketplace sales per ops order (about 10% of the order volume)."""

MARKETING_CAMPAIGNS: tuple[tuple[str, str, str, float], ...] = (
    ("web", "search_brand", "USD", 120.0),
    ("web", "search_generic", "USD", 260.0),
    ("web", "social_prospecting", "USD", 180.0),
    ("web", "display_retargeting_eu", "EUR", 90.0),
    ("app", "app_install", "USD", 150.0),
    ("app", "social_retargeting", "USD", 70.0),
    ("marketplace", "amazon_sponsored", "USD", 110.0),
    ("marketplace", "zalando_promoted", "EUR", 60.0),
)
"""(channel, campaign, currency, typical daily spend at scale 1)."""

BASE_PRODUCTS = 500
BASE_CUSTOMERS = 1_000
BASE_ORDERS = 5_000
"""Counts of the initial state at scale 1 (multiplied by the scale)."""
