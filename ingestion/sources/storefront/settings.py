"""Constants of the storefront API source: endpoints, page sizes, timeouts and retry policy."""

from __future__ import annotations

import datetime as dt

DATASET_NAME = "raw_storefront"

PRODUCTS_PATH = "/v1/products"
SALES_PATH = "/v1/sales"

PRODUCTS_PAGE_SIZE = 500
"""Products per request, the most the API allows (1-500): the whole catalogue is listed on
every reconciling run, and each request pays the API's rate limit and a fixed cost."""
SALES_PAGE_SIZE = 200
SALES_WINDOW_DAYS = 31
"""Sales are requested one date window at a time, each window paginated by cursor."""
SALES_FIRST_DATE = dt.date(2025, 1, 1)
"""Where the first (full) sales load starts: the first day of the business history."""
SALES_LOOKBACK_DAYS = 7
"""Each run re-reads the sales of the days from this long before the newest sale loaded, so a
sale its partner reports late (dated before that newest sale) still lands."""

REJECTED_MAX_ATTEMPTS = 5
"""A rejected record is asked for again on later runs until it loads or has failed this many
times (the first rejection included); then it is given up."""

REQUEST_TIMEOUT_SECONDS = 10.0
"""The longest wait for one socket read (and for the connection); it cannot stop a drip."""
REQUEST_DEADLINE_SECONDS = 60.0
"""The longest one attempt of a request may take, headers and body, however the API drips."""
REQUEST_RETRY_BUDGET_SECONDS = 300.0
"""The longest a request may keep retrying: no new attempt starts after it."""
REQUEST_REFUSED_BUDGET_SECONDS = 15.0
"""The longest a request keeps retrying while every connection is refused (nothing listens at
the API's address): a stopped or misconfigured API is not a hiccup worth five minutes."""
REQUEST_MAX_ATTEMPTS = 12
"""Attempts per request: a 20% error rate fails a request 12 times in a row once in 4e8."""
REQUEST_BACKOFF_FACTOR = 0.25
"""Exponential backoff multiplier (0.25, 0.5, 1, 2 ... seconds) when no Retry-After is sent."""
REQUEST_MAX_RETRY_DELAY_SECONDS = 10.0
SALES_RECONCILE_EVERY_RUNS = 1
"""Every this many runs, the sales before the lookback are compared with the API day by day
(one request per date window, more only where the counts differ); 0 turns it off."""
PRODUCTS_RECONCILE_EVERY_RUNS = 1
"""Every this many runs, the whole catalogue is listed and compared with the fingerprints of
the products loaded (one listing instead of the ``updated_since`` one); 0 turns it off."""
SALES_CONTENT_CHECK_EVERY_RUNS = 7
"""Every this many runs, the sales before the lookback are read in full and compared with raw
value by value (a sale changed in place keeps its day's count); 0 turns it off."""
