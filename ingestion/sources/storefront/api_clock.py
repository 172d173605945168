"""The storefront API's clock: the ``Date`` header of its answers, not the client's UTC now.

Whether a record is stamped in the future, and so may not become the cursor, is a question
about the API's clock: a client whose clock runs ahead of the server's would let a record
stamped after the server's "now" become the cursor, and every later change the server stamps
before that record would be skipped. Every answer carries a ``Date`` header (RFC 7231,
section 7.1.1.2; one-second resolution), so the clock reads each of them (a session hook,
and each listing page: dlt's paginator sets a response hook of its own, which replaces the
session's) and adds the time elapsed since the last one. An API that sends no (readable)
``Date`` falls back to the client's clock, with one warning per run.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any

from requests import Response

log = logging.getLogger(__name__)

SESSION_ATTRIBUTE = "shopflow_api_clock"


def server_time(response: Response) -> dt.datetime | None:
    """The UTC time of the ``Date`` header of ``response``, or None when it has none we read."""
    header = response.headers.get("Date")
    if not header:
        return None
    try:
        parsed = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:  # RFC 7231 dates are GMT; an unzoned one is read as such
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


class ApiClock:
    """The API's "now", from the ``Date`` of the last answer plus the time elapsed since."""

    def __init__(self) -> None:
        self._server: dt.datetime | None = None
        self._received = 0.0
        self._warned = False

    def observe(self, response: Response, *args: Any, **kwargs: Any) -> Response:
        """A ``requests`` response hook: note the answer's ``Date``, hand the answer on."""
        stamp = server_time(response)
        if stamp is not None:
            # the header is truncated to its second: its end is taken, so a record stamped
            # in the same second as the answer is not called a future one
            self._server = stamp + dt.timedelta(seconds=1)
            self._received = time.monotonic()
        return response

    @classmethod
    def of(cls, session: Any) -> ApiClock:
        """The clock hooked to every answer ``session`` receives (hooked on first use).

        It is kept on the session, not passed along: dlt copies a resource's arguments, and
        a clock passed beside the client would not be the one its session feeds.
        """
        clock = getattr(session, SESSION_ATTRIBUTE, None)
        if not isinstance(clock, cls):
            clock = cls()
            session.hooks.setdefault("response", []).append(clock.observe)
            setattr(session, SESSION_ATTRIBUTE, clock)
        return clock

    def now(self) -> dt.datetime:
        """The API's current time; the client's UTC now (warned once) before any ``Date``."""
        if self._server is not None:
            return self._server + dt.timedelta(seconds=time.monotonic() - self._received)
        if not self._warned:
            self._warned = True
            log.warning(
                "storefront: the API sent no Date header, so records stamped in the future are "
                "judged by this machine's clock; keep it in sync with the API's (NTP)"
            )
        return dt.datetime.now(dt.UTC)
