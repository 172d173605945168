"""The storefront's cursors cannot be fooled either (issue 21, class 1, storefront follow-up).

One small world, ingested in-process over real HTTP, goes through the changes a stamp-trusting
storefront cursor loses: a product changed with an old stamp, a product hidden by the API when
the first load ran and restored with its old stamp, a product given exactly the cursor's stamp
or a stamp that went backwards, a tag, a review or an image changed without a new stamp on
its product, and sales behind the lookback changed in place or moved to another day. Then:

1. one ingestion with every reconciliation off misses them all (the test can fail);
2. one with the reconciliations on repairs each of them and counts it as repaired;
3. a run with nothing changed loads nothing (the fingerprints reload no product or sale);
4. the API's clock runs behind this machine's: a product stamped after the API's "now" (but
   before the client's) is flagged and hides a later change; with the ``Date`` header gone the
   client's clock judges it, and the later change is lost (the test can fail);
5. the raw copy equals a clean first load of the same store into a fresh warehouse.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn

from ingestion.database.connection import autocommit, create_database, drop_database
from ingestion.loading.runner import IngestReport
from ingestion.loading.runtime import pipelines_dir
from ingestion.settings import ConnectionSettings
from ingestion.simulators.storefront_api import server as api_server
from tests.integration.ingest_support import IngestWorld, simulated_world
from tests.integration.storefront_support import ingest_with
from tests.reliability.support import warehouse_digest

pytestmark = pytest.mark.reliability

RECONCILE = {
    "SOURCES__STOREFRONT__PRODUCTS_RECONCILE_EVERY_RUNS": "1",
    "SOURCES__STOREFRONT__SALES_RECONCILE_EVERY_RUNS": "1",
    "SOURCES__STOREFRONT__SALES_CONTENT_CHECK_EVERY_RUNS": "1",
}
CURSOR_ONLY = dict.fromkeys(RECONCILE, "0")

PRODUCT_COLUMNS = "round(price, 2)::text, title, stock, updated_at"
PRODUCT_ROW = (
    f"select {PRODUCT_COLUMNS} from storefront.products where product_id = {{key}}",
    f"select {PRODUCT_COLUMNS} from raw_storefront.products where id = {{key}}",
)
CHILD = "join raw_storefront.products p on c._dlt_parent_id = p._dlt_id where p.id = {key}"
TAGS = (
    "select string_agg(tag, ',' order by tag) from storefront.product_tags"
    " where product_id = {key}",
    "select string_agg(c.value, ',' order by c.value)"
    f" from raw_storefront.products__tags c {CHILD}",
)
REVIEWS = (
    "select string_agg(review_id || ':' || coalesce(comment, ''), '|' order by review_id)"
    " from storefront.product_reviews where product_id = {key}",
    "select string_agg(c.id || ':' || coalesce(c.comment, ''), '|' order by c.id)"
    f" from raw_storefront.products__reviews c {CHILD}",
)
IMAGES = (
    "select string_agg(url, ',' order by url) from storefront.product_images"
    " where product_id = {key}",
    f"select string_agg(c.url, ',' order by c.url) from raw_storefront.products__images c {CHILD}",
)
SALE = (
    "select round(gross_amount, 2)::text, sold_at from storefront.marketplace_sales"
    " where partner_order_id = '{key}'",
    "select round(gross_amount, 2)::text, sold_at from raw_storefront.sales"
    " where partner_order_id = '{key}'",
)
CHILD_TABLES = ("product_tags", "product_images", "product_reviews")


@dataclass(frozen=True)
class Case:
    """One change of the store that a stamp-trusting cursor misses."""

    name: str
    table: str
    change: str
    """SQL on the operations DB: ``{key}`` is the chosen record, ``{cursor}`` the newest
    product stamp loaded."""
    compared: tuple[tuple[str, str], ...]
    """(source, raw) queries whose answers must be equal once the change landed."""
    needs: str = "true"
    """What the chosen product must have (a condition on ``p``)."""


CASES = (
    Case(
        "product changed with an old stamp (named)",
        "products",
        "update storefront.products set price = price + 7,"
        " updated_at = {cursor} - interval '3 days' where product_id = {key}",
        (PRODUCT_ROW,),
    ),
    Case(
        "product hidden by the API, restored with its old stamp (named)",
        "products",
        "insert into storefront.products select * from sim.hidden_products;"
        + "".join(
            f" insert into storefront.{t} select * from sim.hidden_{t};" for t in CHILD_TABLES
        ),
        (PRODUCT_ROW, TAGS, REVIEWS, IMAGES),
    ),
    Case(
        "a tag changed without a stamp bump (named)",
        "products",
        "update storefront.product_tags set tag = tag || '-relabelled' where product_id = {key}",
        (TAGS,),
        "exists (select from storefront.product_tags t where t.product_id = p.product_id)",
    ),
    Case(
        "a review edited without a stamp bump",
        "products",
        "update storefront.product_reviews set comment = 'edited afterwards' where review_id ="
        " (select min(review_id) from storefront.product_reviews where product_id = {key})",
        (REVIEWS,),
        "exists (select from storefront.product_reviews r where r.product_id = p.product_id)",
    ),
    Case(
        "an image removed without a stamp bump",
        "products",
        "delete from storefront.product_images where product_id = {key} and position ="
        " (select max(position) from storefront.product_images where product_id = {key})",
        (IMAGES,),
        "(select count(*) from storefront.product_images i where i.product_id = p.product_id) > 1",
    ),
    Case(
        "product changed and given exactly the cursor's stamp",
        "products",
        "update storefront.products set title = title || ' (v2)', updated_at = {cursor}"
        " where product_id = {key}",
        (PRODUCT_ROW,),
    ),
    Case(
        "product stamp goes backwards on update",
        "products",
        "update storefront.products set stock = stock + 5,"
        " updated_at = updated_at - interval '10 days' where product_id = {key}",
        (PRODUCT_ROW,),
    ),
    Case(
        "a sale changed in place behind the lookback (named)",
        "sales",
        "update storefront.marketplace_sales set gross_amount = gross_amount + 1"
        " where partner_order_id = '{key}'",
        (SALE,),
    ),
    Case(
        "a sale moved to another day behind the lookback",
        "sales",
        "update storefront.marketplace_sales set sold_at = sold_at - interval '2 days'"
        " where partner_order_id = '{key}'",
        (SALE,),
    ),
)
HIDDEN = CASES[1]

API_NOW = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
"""The skewed API's clock: a day after the world's business clock, long before this machine's."""
SKEW_STEPS = {
    "future to the API": "2026-02-01",
    "later by the API's clock": "2026-01-01 12:00",
    "future to the API, no Date header": "2026-03-01",
    "later, no Date header": "2026-01-01 18:00",
}
"""The stamp each clock step gives its product (all before this machine's clock)."""


@dataclass
class Trial:
    """What the module's world went through, observed after each step."""

    keys: dict[str, Any] = field(default_factory=dict)
    after_cursor_only: dict[str, bool] = field(default_factory=dict)
    after_reconciliation: dict[str, bool] = field(default_factory=dict)
    repaired: dict[str, dict[str, int]] = field(default_factory=dict)
    flagged: dict[str, dict[str, int]] = field(default_factory=dict)
    landed_at_step: dict[str, bool] = field(default_factory=dict)
    loaded_again: int = -1
    raw: dict[str, tuple[int, str]] = field(default_factory=dict)
    clean: dict[str, tuple[int, str]] = field(default_factory=dict)


def ingest(world: IngestWorld, trial: Trial, step: str, env: dict[str, str]) -> IngestReport:
    """Ingest the storefront with ``env`` set; note what was repaired and flagged."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        report = ingest_with(world)
    assert report.ok, report.units
    trial.repaired[step] = {u.table: u.rows_repaired for u in report.units}
    trial.flagged[step] = {u.table: u.rows_future_stamped for u in report.units}
    return report


def landed(world: IngestWorld, compared: tuple[tuple[str, str], ...], key: Any) -> bool:
    """Whether every compared value of the record is the same in the store and in raw."""
    for source, raw in compared:
        expected = world.query(source.format(key=key), ops=True)
        if not expected or expected[0][0] is None or expected != world.query(raw.format(key=key)):
            return False
    return True


def pick(world: IngestWorld, used: set[Any], needs: str) -> int:
    """A product not used by another case, with what the case needs."""
    rows = world.query(
        f"select product_id from storefront.products p where {needs} order by product_id", True
    )
    key = next(row[0] for row in rows if row[0] not in used)
    used.add(key)
    return int(key)


def old_sale(world: IngestWorld, offset: int) -> str:
    """A sale dated well before the sales lookback (40 days before the newest sale)."""
    return str(
        world.scalar(
            "select partner_order_id from storefront.marketplace_sales where sold_at <"
            " (select max(sold_at) - interval '40 days' from storefront.marketplace_sales)"
            f" order by sold_at, partner_order_id offset {offset} limit 1",
            ops=True,
        )
    )


def hide_product(world: IngestWorld, key: int) -> None:
    """The API stops showing the product (kept aside in ``sim`` to be restored)."""
    with autocommit(world.settings, world.settings.ops_database) as cursor:
        # a throwaway world: the sales may name a product the API hides for a while
        cursor.execute(
            "alter table storefront.marketplace_sales"
            " drop constraint if exists marketplace_sales_sku_fkey"
        )
        for table in (*CHILD_TABLES, "products"):
            cursor.execute(
                f"create table sim.hidden_{table} as select * from storefront.{table}"
                f" where product_id = {key}"
            )
            cursor.execute(f"delete from storefront.{table} where product_id = {key}")


def apply_changes(world: IngestWorld, trial: Trial, used: set[Any]) -> None:
    """Write every case's change into the store."""
    cursor_value = world.scalar("select max(updated_at)::text from raw_storefront.products")
    sales = iter(range(2))
    for case in CASES:
        if case is not HIDDEN:
            trial.keys[case.name] = (
                old_sale(world, next(sales))
                if case.table == "sales"
                else pick(world, used, case.needs)
            )
        with autocommit(world.settings, world.settings.ops_database) as cursor:
            cursor.execute(
                case.change.format(
                    key=trial.keys[case.name], cursor=f"'{cursor_value}'::timestamptz"
                )
            )


def all_landed(world: IngestWorld, trial: Trial) -> dict[str, bool]:
    return {c.name: landed(world, c.compared, trial.keys[c.name]) for c in CASES}


def skewed_date(*args: Any, **kwargs: Any) -> str:
    """uvicorn's ``Date`` header, from the skewed API clock instead of this machine's."""
    return email.utils.format_datetime(API_NOW, usegmt=True)


def without_date(*args: Any, **kwargs: Any) -> uvicorn.Config:
    config = ORIGINAL_UVICORN_CONFIG(*args, **kwargs)
    config.date_header = False
    return config


ORIGINAL_UVICORN_CONFIG = api_server.uvicorn_config


def clock_steps(world: IngestWorld, trial: Trial, used: set[Any]) -> None:
    """Stamp one product per step after the cursor; ingest with the API's clock skewed."""
    for step, stamp in SKEW_STEPS.items():
        key = trial.keys[step] = pick(world, used, "true")
        world.query(
            f"update storefront.products set price = price + 3, updated_at = '{stamp}+00'"
            f" where product_id = {key} returning product_id",
            ops=True,
        )
        with pytest.MonkeyPatch.context() as patch:
            if "no Date header" in step:
                patch.setattr(api_server, "uvicorn_config", without_date)
            else:
                patch.setattr(uvicorn.server, "formatdate", skewed_date)
            ingest(world, trial, step, CURSOR_ONLY)
        trial.landed_at_step[step] = landed(world, (PRODUCT_ROW,), key)


def clean_load(world: IngestWorld) -> dict[str, tuple[int, str]]:
    """raw_storefront after a first load of the same store into a fresh warehouse."""
    settings = world.settings.with_databases(
        f"{world.settings.database}_clean", world.settings.ops_database
    )
    create_database(settings, settings.database)
    try:
        assert ingest_with(IngestWorld(settings, world.landing)).ok
        return warehouse_digest(settings, ("raw_storefront",))
    finally:
        drop_database(settings, settings.database)
        shutil.rmtree(pipelines_dir(settings), ignore_errors=True)


@pytest.fixture(scope="module")
def trial(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Trial]:
    trial = Trial()
    used: set[Any] = set()
    with simulated_world(
        server_settings, tmp_path_factory.mktemp("storefront-trust"), scale=0.05
    ) as world:
        trial.keys[HIDDEN.name] = pick(world, used, CASES[4].needs)
        hide_product(world, trial.keys[HIDDEN.name])
        ingest(world, trial, "first load", {})
        apply_changes(world, trial, used)
        ingest(world, trial, "cursor only", CURSOR_ONLY)
        trial.after_cursor_only = all_landed(world, trial)
        ingest(world, trial, "reconciliation", RECONCILE)
        trial.after_reconciliation = all_landed(world, trial)
        again = ingest(world, trial, "nothing changed", RECONCILE)
        trial.loaded_again = sum(u.rows_loaded for u in again.units)
        clock_steps(world, trial, used)
        ingest(world, trial, "final", RECONCILE)
        trial.raw = warehouse_digest(world.settings, ("raw_storefront",))
        trial.clean = clean_load(world)
        yield trial


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_missed_change_lands(trial: Trial, case: Case) -> None:
    """Missed by the cursor alone; found by the reconciliation: raw = the store."""
    assert trial.after_cursor_only[case.name] is False, trial.after_cursor_only
    assert trial.after_reconciliation[case.name], trial.after_reconciliation


def test_repairs_are_counted(trial: Trial) -> None:
    """Each unit counts what it repaired; the cursor-only run repaired nothing."""
    products = sum(1 for c in CASES if c.table == "products")
    assert trial.repaired["cursor only"] == {"products": 0, "sales": 0}
    assert trial.repaired["reconciliation"] == {
        "products": products,
        "sales": len(CASES) - products,
    }


def test_nothing_changed_loads_nothing(trial: Trial) -> None:
    """Listing the whole catalogue and reading every sale again reloads no row."""
    assert trial.loaded_again == 0
    assert trial.repaired["nothing changed"] == {"products": 0, "sales": 0}


def test_the_api_clock_judges_future_stamps(trial: Trial) -> None:
    """Behind this machine's clock, the API's ``Date`` flags a product stamped after it and
    a later change lands; judged by this machine's clock (no header) the later one is lost."""
    assert trial.flagged["future to the API"]["products"] == 1
    assert trial.landed_at_step["later by the API's clock"]
    assert trial.flagged["future to the API, no Date header"]["products"] == 0
    assert trial.landed_at_step["later, no Date header"] is False
    assert trial.repaired["final"]["products"] == 1


def test_raw_equals_a_clean_load(trial: Trial) -> None:
    """After the reconciling run, raw is what a first load of the same store gives."""
    assert trial.raw == trial.clean
