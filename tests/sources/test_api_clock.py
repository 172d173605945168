"""The storefront API's clock is read from its answers' ``Date`` header (RFC 7231)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import requests

from ingestion.sources.storefront.api_clock import ApiClock, server_time
from ingestion.sources.storefront.products_reconciliation import product_fingerprint


def answer(date: str | None) -> requests.Response:
    response = requests.Response()
    if date is not None:
        response.headers["Date"] = date
    return response


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Fri, 02 Jan 2026 00:00:00 GMT", dt.datetime(2026, 1, 2, tzinfo=dt.UTC)),
        ("Fri, 02 Jan 2026 01:30:00 +0130", dt.datetime(2026, 1, 2, tzinfo=dt.UTC)),
        # the obsolete RFC 850 form, which RFC 7231 asks a recipient to accept
        ("Friday, 02-Jan-26 00:00:00 GMT", dt.datetime(2026, 1, 2, tzinfo=dt.UTC)),
        ("not a date", None),
        ("", None),
        (None, None),
    ],
)
def test_server_time_reads_the_date_header(header: str | None, expected: object) -> None:
    assert server_time(answer(header)) == expected


def test_the_clock_follows_the_server_not_this_machine() -> None:
    clock = ApiClock()
    clock.observe(answer("Fri, 02 Jan 2026 00:00:00 GMT"))
    now = clock.now()
    # the end of the header's second, plus the (tiny) time elapsed since
    assert dt.timedelta(seconds=1) <= now - dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    assert now - dt.datetime(2026, 1, 2, tzinfo=dt.UTC) < dt.timedelta(seconds=5)


def test_without_a_date_the_client_clock_is_used_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ApiClock()
    clock.observe(answer(None))
    with caplog.at_level(logging.WARNING):
        first, second = clock.now(), clock.now()
    assert abs(first - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5) and second >= first
    warnings = [r.message for r in caplog.records if "no Date header" in r.message]
    assert len(warnings) == 1


def test_one_clock_per_session() -> None:
    session = requests.Session()
    clock = ApiClock.of(session)
    assert ApiClock.of(session) is clock
    assert session.hooks["response"] == [clock.observe]


def test_a_field_outside_the_contract_does_not_change_the_fingerprint() -> None:
    product = {"id": 1, "price": 2, "tags": ["a"], "updated_at": "2026-01-01"}
    assert product_fingerprint(product) == product_fingerprint({**product, "new_field": 5})
    assert product_fingerprint(product) != product_fingerprint({**product, "tags": ["b"]})
