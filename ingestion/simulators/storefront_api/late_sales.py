"""The late-sale fault: a partner reports a sale days after it happened.

The sale is written to the storefront's store dated before the newest sale already there, so
a client that only asks for sales after the last one it saw would never see it.
"""

from __future__ import annotations

import datetime as dt

from ingestion.database.connection import autocommit
from ingestion.settings import ConnectionSettings

LATE_ID_SUFFIX = "-LATE"

INSERT_LATE_SALE_SQL = """
    with newest as (
        select partner_order_id, partner_name, sku, quantity, gross_amount, currency, sold_at
        from storefront.marketplace_sales
        order by sold_at desc, partner_order_id collate "C" desc
        limit 1
    ),
    late_count as (
        select count(*) as n
        from storefront.marketplace_sales
        where partner_order_id like '%%' || %(suffix)s || '%%'
    )
    insert into storefront.marketplace_sales (
        partner_order_id, partner_name, sku, quantity, gross_amount, currency, sold_at, updated_at
    )
    select
        split_part(newest.partner_order_id, '-', 1) || %(suffix)s
            || lpad((late_count.n + 1)::text, 4, '0'),
        newest.partner_name,
        newest.sku,
        newest.quantity,
        newest.gross_amount,
        newest.currency,
        newest.sold_at - %(late_by)s,
        newest.sold_at
    from newest, late_count
    returning partner_order_id, sold_at
"""


def add_late_sale(settings: ConnectionSettings, late_by: dt.timedelta) -> tuple[str, dt.datetime]:
    """Insert a sale dated ``late_by`` before the newest one; return its id and ``sold_at``.

    It copies the partner, product and amounts of the newest sale (the last in API order)
    under a new partner order id (``<prefix>-LATE<n>``), stamped ``updated_at`` at the
    newest sale's time, when it reached the store.
    """
    with autocommit(settings, settings.ops_database) as cursor:
        cursor.execute(INSERT_LATE_SALE_SQL, {"suffix": LATE_ID_SUFFIX, "late_by": late_by})
        row = cursor.fetchone()
    if row is None:
        raise ValueError("the storefront has no sale yet: generate the simulated world first")
    return str(row[0]), row[1]
