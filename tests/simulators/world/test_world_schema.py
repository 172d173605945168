"""The initial world honours the DDL's constraints and the contract's facts."""

from __future__ import annotations

import psycopg2
import psycopg2.errors
import pytest

from tests.simulators.world.support import SMALL_SCALE, World

pytestmark = pytest.mark.integration

BAD_ROWS = {
    "order status outside the list": (
        "update ops.orders set status = 'lost' where order_id = (select min(order_id) "
        "from ops.orders)"
    ),
    "discount above one half": (
        "update ops.order_items set discount = 0.6 where order_item_id = 1"
    ),
    "delivery date before the order": (
        "update ops.orders set delivery_date = ordered_at::date - 1 where order_id = 1"
    ),
    "unknown currency": "update ops.orders set currency = 'JPY' where order_id = 1",
    "payment status outside the list": "update ops.payments set status = 'pending'",
    "non-positive price": "update storefront.products set price = 0 where product_id = 1",
    "duplicate sku": "update storefront.products set sku = 'SKU-000001' where product_id = 2",
    "line of a missing order": (
        "insert into ops.order_items (order_item_id, order_id, line_number, product_id, sku, "
        "quantity, unit_price, created_at, updated_at) "
        "values (-1, -1, 1, 1, 'SKU-000001', 1, 1, now(), now())"
    ),
    "unknown carrier": "update ops.deliveries set carrier = 'Hermes'",
    "delivered before shipped": (
        "update ops.deliveries set delivered_at = shipped_at - interval '1 day' "
        "where shipped_at is not null"
    ),
    "rating above five": "update storefront.product_reviews set rating = 6",
    "sale of an unknown sku": (
        "insert into storefront.marketplace_sales values "
        "('X-1', 'Amazon', 'SKU-999999', 1, 1, 'USD', now(), now())"
    ),
    "a second clock": (
        "insert into sim.clock (singleton, business_time, seed, scale) values (false, now(), 1, 1)"
    ),
}


@pytest.mark.parametrize("statement", BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_bad_rows_are_rejected(world: World, statement: str) -> None:
    conn = psycopg2.connect(world.settings.ops_url)
    try:
        with pytest.raises(psycopg2.IntegrityError), conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.rollback()
        conn.close()


def test_counts_follow_the_scale(world: World) -> None:
    (products, customers, orders, sales), *_ = world.query(
        "select (select count(*) from storefront.products), (select count(*) from ops.customers),"
        " (select count(*) from ops.orders), (select count(*) from storefront.marketplace_sales)"
    )

    assert products == round(500 * SMALL_SCALE)
    assert customers == round(1000 * SMALL_SCALE)
    assert orders == round(5000 * SMALL_SCALE)
    assert sales == round(500 * SMALL_SCALE)


def test_clock_stands_at_the_start_of_2026(world: World) -> None:
    ((business_time, ticks),) = world.query(
        "select to_char(business_time, 'YYYY-MM-DD\"T\"HH24:MI:SS'), ticks from sim.clock"
    )

    assert (business_time, ticks) == ("2026-01-01T00:00:00", 0)


def test_orders_cover_2025_with_a_realistic_status_mix(world: World) -> None:
    rows = dict(world.query("select status, count(*) from ops.orders group by status"))
    (first, last, latest_update), *_ = world.query(
        "select min(ordered_at)::date::text, max(ordered_at)::date::text, max(updated_at) "
        "< '2026-01-01' from ops.orders"
    )

    assert first.startswith("2025-01") and last.startswith("2025-12") and latest_update
    assert rows["delivered"] / sum(rows.values()) > 0.8
    assert rows.get("cancelled", 0) + rows.get("refunded", 0) > 0


def test_currency_is_the_customers_country_currency(world: World) -> None:
    ((mismatches,),) = world.query(
        "select count(*) from ops.orders as o inner join ops.customers as c "
        "on c.customer_id = o.customer_id where o.currency <> case c.country_code "
        "when 'US' then 'USD' when 'CA' then 'CAD' when 'GB' then 'GBP' when 'AU' then 'AUD' "
        "else 'EUR' end"
    )

    assert mismatches == 0


def test_payments_charge_the_order_total_and_match_the_status(world: World) -> None:
    ((wrong_amounts, paid_without_payment),) = world.query(
        """
        select
            (select count(*) from ops.payments as p inner join (
                select order_id, round(sum(quantity * unit_price * (1 - discount)), 2) as total
                from ops.order_items group by order_id) as t on t.order_id = p.order_id
             where p.amount <> t.total),
            (select count(*) from ops.orders as o
             where o.status in ('paid', 'shipped', 'delivered')
               and not exists (select 1 from ops.payments as p where p.order_id = o.order_id))
        """
    )

    assert (wrong_amounts, paid_without_payment) == (0, 0)


def test_shipped_orders_have_deliveries_and_pending_ones_do_not(world: World) -> None:
    ((missing, premature),) = world.query(
        """
        select
            count(*) filter (where o.status in ('shipped', 'delivered') and d.order_id is null),
            count(*) filter (where o.status in ('pending', 'paid') and d.order_id is not null)
        from ops.orders as o left join ops.deliveries as d on d.order_id = o.order_id
        """
    )

    assert (missing, premature) == (0, 0)


def test_catalogue_shape(world: World) -> None:
    rows = world.query(
        "select count(distinct category), bool_and(sku = 'SKU-' || lpad(product_id::text, 6, "
        "'0')), bool_and(currency = 'USD'), (select count(*) from storefront.products as p "
        "where not exists (select 1 from storefront.product_tags as t where t.product_id = "
        "p.product_id)) from storefront.products"
    )

    assert rows == [(10, True, True, 0)]
