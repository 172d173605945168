"""A storefront response's JSON body is parsed once however many readers ask for it (dlt's
paginator, its data selector and ``checked_pages`` each read every page); no server needed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import requests
from requests.adapters import BaseAdapter

from ingestion.sources.storefront.pages import parse_bodies_once

BODY = b'{"products": [{"id": 1, "price": 9.5}], "total": 1}'


class CannedAdapter(BaseAdapter):
    """Answers every request with ``BODY``, counting the requests."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = 0

    def send(self, request: requests.PreparedRequest, **_kwargs: Any) -> requests.Response:
        self.sent += 1
        response = requests.Response()
        response.status_code = 200
        response._content = BODY
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        """Nothing to release."""


def canned_session() -> tuple[requests.Session, CannedAdapter]:
    session = requests.Session()
    adapter = CannedAdapter()
    session.mount("http://", adapter)
    parse_bodies_once(session)
    return session, adapter


def test_every_reader_of_a_response_gets_the_one_parsed_body() -> None:
    session, adapter = canned_session()
    response = session.get("http://storefront.test/v1/products")
    first = response.json()
    assert response.json() is first  # parsed once: the same object, not an equal copy
    assert first["products"][0]["price"] == 9.5
    assert adapter.sent == 1


def test_a_call_with_arguments_parses_afresh_and_leaves_the_cached_body_alone() -> None:
    session, _adapter = canned_session()
    response = session.get("http://storefront.test/v1/products")
    cached = response.json()
    exact = response.json(parse_float=Decimal)
    assert exact["products"][0]["price"] == Decimal("9.5")
    assert response.json() is cached and cached["products"][0]["price"] == 9.5


def test_each_response_keeps_its_own_body() -> None:
    session, adapter = canned_session()
    one = session.get("http://storefront.test/v1/products")
    two = session.get("http://storefront.test/v1/sales")
    assert one.json() is not two.json()
    assert adapter.sent == 2
