"""Pagination that refuses to end quietly: every page is checked against what the API promised.

dlt's paginators stop on an empty page and read a page without its data key as an empty
one, so a bad answer in the middle of a listing would end it early with success, and the
cursor would move past everything not fetched. Here a page must carry its data list and its
``total``, must not be empty while the API says more follows, and the records of a listing
must add up to the ``total`` it announced. Otherwise :class:`PageIntegrityError` is raised
inside the resource: dlt then fails the table's extract and commits neither rows nor state,
so the next run asks for the same data again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.client import PageData
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests import PreparedRequest, Response, Session

from ingestion.sources.storefront.api_clock import ApiClock

log = logging.getLogger(__name__)

MorePromised = Callable[[dict[str, Any], list[Any]], bool]
"""Whether a page body says that more records follow it (``next_cursor``, ``skip + n < total``)."""


PAGE_PARAMS = frozenset({"skip", "limit", "cursor"})
"""Query parameters that only move through the pages; the page number says it shorter."""


class PageIntegrityError(RuntimeError):
    """A 200 answer that cannot be the whole truth: the table's run must fail, not end early."""


def parse_bodies_once(session: Session) -> None:
    """Make every response of ``session`` parse its JSON body once, however often it is asked.

    Each page of a listing is read by dlt's paginator, by dlt's data selector and by
    :func:`checked_pages`, each calling ``response.json()``: without this, a page is
    decoded three times, which for the catalogue listed whole was most of the client's work.
    (A ``response`` hook cannot do it: dlt's own per-request hooks replace the session's.)
    A call with arguments parses afresh; a body that fails to parse fails every call.
    """
    send = session.send

    def send_parsed_once(request: PreparedRequest, **kwargs: Any) -> Response:
        response = send(request, **kwargs)
        parse = response.json
        parsed: list[Any] = []

        def json_once(**json_kwargs: Any) -> Any:
            if json_kwargs:
                return parse(**json_kwargs)
            if not parsed:
                parsed.append(parse())
            return parsed[0]

        response.json = json_once  # type: ignore[method-assign]
        return response

    session.send = send_parsed_once  # type: ignore[method-assign]


def listing_target(response: Response) -> str:
    """The path and the filters of the listing behind ``response`` (no host, no page params)."""
    parts = urlsplit(response.url)
    filters = [f"{k}={v}" for k, v in parse_qsl(parts.query) if k not in PAGE_PARAMS]
    return f"{parts.path}?{'&'.join(filters)}" if filters else parts.path


def broken(resource: str, response: Response, page: int, problem: str) -> PageIntegrityError:
    """The one-sentence error for a page of a listing of ``resource`` that went wrong.

    Kept short: dlt wraps it in two exceptions of its own, and the run summary shows the
    first few hundred characters of the whole.
    """
    return PageIntegrityError(
        f"storefront {resource}: page {page} of GET {listing_target(response)} {problem}; "
        "nothing loaded, cursor kept: the next run asks again"
    )


@dataclass
class ListingTally:
    """What one listing (e.g. one sales date window) received, against what it announced."""

    key: str
    announced: int | None = None
    keys: set[Any] = field(default_factory=set)
    keyless: int = 0

    def add(self, records: list[Any]) -> None:
        """Count the records of one page; a record repeated across pages counts once."""
        for record in records:
            value = record.get(self.key) if isinstance(record, dict) else None
            if value is None or isinstance(value, (dict, list)):
                self.keyless += 1
            else:
                self.keys.add(value)

    @property
    def received(self) -> int:
        """Distinct records received (keyed ones once each, plus every keyless one)."""
        return len(self.keys) + self.keyless


def checked_pages(
    client: RESTClient,
    path: str,
    *,
    resource: str,
    data_key: str,
    record_key: str,
    params: dict[str, Any],
    paginator: BasePaginator,
    more_promised: MorePromised,
) -> Iterator[list[Any]]:
    """The pages of one listing, each checked; raises PageIntegrityError on a broken one.

    After the last page, the distinct records received must reach the ``total`` of the first
    page. More than announced is only logged: it can only be a repeated record that lost its
    key on one of its passes, and the merge on the key keeps one.
    """
    tally = ListingTally(key=record_key)
    clock = ApiClock.of(client.session)
    last: PageData[Any] | None = None
    number = 0
    for page in client.paginate(path, params=params, paginator=paginator, data_selector=data_key):
        number += 1
        clock.observe(page.response)
        body = page.response.json()
        records = body.get(data_key) if isinstance(body, dict) else None
        if not isinstance(records, list):
            raise broken(resource, page.response, number, f"came back without its '{data_key}'")
        total = body.get("total")
        if not isinstance(total, int) or isinstance(total, bool):
            raise broken(resource, page.response, number, "came back without its 'total'")
        if tally.announced is None:
            tally.announced = total
        if not records and more_promised(body, records):
            raise broken(resource, page.response, number, "came back empty before the end")
        tally.add(records)
        last = page
        yield list(page)
    if last is not None and tally.announced is not None and tally.received < tally.announced:
        raise broken(
            resource,
            last.response,
            number,
            f"ended with {tally.received} of the {tally.announced} records announced",
        )
    if tally.announced is not None and tally.received > tally.announced:
        log.info(
            "storefront %s: %d records received, %d announced (repeats without a key)",
            resource,
            tally.received,
            tally.announced,
        )


def offset_more_promised(body: dict[str, Any], records: list[Any]) -> bool:
    """An offset page promises more while ``skip + len(page) < total``."""
    skip, total = body.get("skip"), body.get("total")
    if not isinstance(skip, int) or not isinstance(total, int):
        return False
    return skip + len(records) < total


def cursor_more_promised(body: dict[str, Any], records: list[Any]) -> bool:
    """A cursor page promises more while it carries a ``next_cursor``."""
    return body.get("next_cursor") is not None
