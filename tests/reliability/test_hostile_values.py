"""Hostile values in a source never fail `dbt build`: the rows are flagged and set aside.

An order dated 2999 (outside dim_date's calendar) and an order line pointing at a product
the catalogue never had used to fail the build on every run until the source was fixed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingestion.database.connection import autocommit
from ingestion.settings import ConnectionSettings
from tests.reliability.references import BUILD_SCALE, new_world, output_of
from tests.reliability.support import CliWorld

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow]

FAR_ORDER = 9_000_001
ORPHAN_LINE = 9_000_002
MISSING_PRODUCT = 987_654_321


@pytest.fixture
def world(server_settings: ConnectionSettings, tmp_path: Path) -> Iterator[CliWorld]:
    for created in new_world(server_settings, tmp_path, BUILD_SCALE):
        done = created.run("run")
        assert done.returncode == 0, output_of(done)
        yield created


def test_an_order_dated_2999_and_an_orphan_line_are_set_aside_not_fatal(world: CliWorld) -> None:
    with autocommit(world.settings, world.settings.ops_database) as cursor:
        cursor.execute(
            "insert into ops.orders select %s, customer_id, '2999-01-01', 'paid',"
            " payment_method, currency, channel, '2999-01-02', created_at,"
            " (select max(updated_at) from ops.orders) + interval '1 second'"
            " from ops.orders order by order_id limit 1",
            (FAR_ORDER,),
        )
        cursor.execute(
            "insert into ops.order_items select %s, order_id, 99, %s, 'NO-SUCH-SKU', 1,"
            " unit_price, 0, created_at, (select max(updated_at) from ops.order_items)"
            " + interval '1 second' from ops.order_items o where exists (select 1 from"
            " ops.orders r where r.order_id = o.order_id and r.status = 'delivered')"
            " order by order_item_id limit 1",
            (ORPHAN_LINE, MISSING_PRODUCT),
        )

    done = world.run("run")

    assert done.returncode == 0, output_of(done)
    with autocommit(world.settings, world.settings.database) as cursor:
        cursor.execute(
            "select is_valid, invalid_reason from staging.stg_ops__orders where order_id = %s",
            (FAR_ORDER,),
        )
        assert cursor.fetchall() == [(False, "ordered_at is outside the calendar")]
        cursor.execute("select count(*) from marts.fct_orders where order_id = %s", (FAR_ORDER,))
        assert cursor.fetchone() == (0,)
        # the orphan line still counts in revenue, under the unknown product
        cursor.execute(
            "select count(*) from marts.fct_sales where product_id = %s", (MISSING_PRODUCT,)
        )
        assert cursor.fetchone() == (1,)
        cursor.execute(
            "select count(*) from marts.mart_product_affinity where %s in"
            " (antecedent_product_id, consequent_product_id)",
            (MISSING_PRODUCT,),
        )
        assert cursor.fetchone() == (0,)
