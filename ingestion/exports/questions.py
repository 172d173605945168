"""The named questions `shopflow export` answers, each a query on the marts layer or on one of
the semantic layer's saved queries (its metrics, defined once in dbt_project/models/marts/
_marts__metrics.yml, so the files say what `mf query` and the report say).

Row-level lists and rankings (open orders, customers with open orders, pending items, top
customers, best sellers) read their mart: a metric is an aggregate and cannot list rows, so
the mart is their one definition.

A question's SQL names its columns, reads only mart relations (``{marts}`` is replaced by the
quoted marts schema) and ends in an ORDER BY that makes the row order stable. ``{as_of}`` in
the SQL is replaced by the question's as-of predicate when ``--as-of`` is given, else by
``true``; a question without an as-of predicate refuses ``--as-of`` and says why.

The marts hold one build of the data on the business clock (2025 to early 2026), not today's:
an as-of date filters that build (delivery dates from the date on, months up to it); it does
not rebuild the past.
"""

from __future__ import annotations

from dataclasses import dataclass


class UnknownQuestionError(LookupError):
    """No question has that name; the message lists the valid names."""


@dataclass(frozen=True)
class Question:
    """One named question: what it answers, the marts it reads and its SQL."""

    name: str
    description: str
    relations: tuple[str, ...]
    """The mart relations the SQL reads: all must exist before it runs."""
    sql: str
    as_of_note: str
    """What ``--as-of DATE`` means for this question, or why it is refused."""
    as_of_predicate: str | None = None
    """SQL condition on ``%(as_of)s``; None when the question has no as-of date."""
    without_as_of: str = "true"
    """What ``{as_of}`` becomes without ``--as-of`` (a question may default to business
    today)."""
    saved_query: str | None = None
    """The semantic layer's saved query the figures come from (_marts__saved_queries.yml):
    ``{metrics}`` in the SQL is its compiled SQL, the SQL around it only names, types (the
    marts' numeric(28, 6), which Parquet needs) and orders the columns. None for the
    questions that read a mart (row-level lists, rankings)."""

    @property
    def supports_as_of(self) -> bool:
        return self.as_of_predicate is not None


OPEN_ORDERS = Question(
    name="open_orders",
    description="Every open order (pending or paid, not yet shipped) with its customer's "
    "current contact details, soonest delivery first.",
    relations=("fct_orders", "dim_customers", "dim_date"),
    sql="""
select
    orders.order_id,
    orders.sales_order_id,
    orders.customer_id,
    customers.first_name,
    customers.last_name,
    customers.email_masked,
    customers.phone_masked,
    customers.country_code,
    customers.city,
    orders.order_status,
    orders.payment_method,
    orders.channel,
    orders.carrier,
    orders.delivery_status,
    orders.currency_code,
    delivery_days.day_name as delivery_day_name,
    orders.line_count,
    orders.units,
    orders.net_amount,
    orders.net_amount_usd,
    orders.delivery_date,
    orders.ordered_at
from {marts}.fct_orders as orders
left join {marts}.dim_customers as customers
    on orders.customer_id = customers.customer_id and customers.is_current
left join {marts}.dim_date as delivery_days
    on orders.delivery_date = delivery_days.date_day
where orders.is_open and {as_of}
order by orders.delivery_date nulls last, orders.order_id
""",
    as_of_predicate="orders.delivery_date >= %(as_of)s",
    as_of_note="open orders promised for delivery on or after the date",
)

PENDING_ITEMS = Question(
    name="pending_items",
    description="Units of each product on open orders against today's stock, "
    "most pending units first.",
    relations=("mart_pending_items_by_product",),
    sql="""
select
    product_id,
    sku,
    product_title,
    category,
    open_orders,
    pending_quantity,
    stock_quantity,
    pending_amount_usd,
    is_stock_short
from {marts}.mart_pending_items_by_product
order by pending_quantity desc, product_id
""",
    as_of_note="the mart sums every open order per product and keeps no dates",
)

TOP_DELIVERY_DATES = Question(
    name="top_delivery_dates",
    description="Promised delivery dates with open orders, busiest first.",
    relations=("mart_open_orders_by_delivery_date",),
    sql="""
select
    delivery_date,
    open_orders,
    pending_orders,
    paid_orders,
    open_units,
    open_amount_usd
from {marts}.mart_open_orders_by_delivery_date
where {as_of}
order by open_orders desc, delivery_date
""",
    as_of_predicate="delivery_date >= %(as_of)s",
    as_of_note="delivery dates on or after the date",
)

CUSTOMERS_WITH_OPEN_ORDERS = Question(
    name="customers_with_open_orders",
    description="Customers with at least one open order, most open orders first.",
    relations=("mart_customers_with_open_orders",),
    sql="""
select
    open_orders_rank,
    customer_id,
    first_name,
    last_name,
    email_masked,
    phone_masked,
    country_code,
    city,
    open_orders,
    open_units,
    open_amount_usd,
    next_delivery_date,
    oldest_open_order_at
from {marts}.mart_customers_with_open_orders
order by open_orders_rank
""",
    as_of_note="the mart totals every open order per customer; "
    "use open_orders --as-of for order-level rows",
)

OPEN_ORDERS_BY_DELIVERY_DATE = Question(
    name="open_orders_by_delivery_date",
    description="Orders open at the end of a business day (default: business today) per "
    "promised delivery date: how many, units and amount.",
    relations=("fct_order_open_periods", "dim_date"),
    sql="""
select
    orders.delivery_date,
    cast(count(orders.order_id) as integer) as open_orders,
    cast(sum(orders.units) as bigint) as open_units,
    cast(sum(orders.net_amount_usd) as numeric(28, 6)) as open_amount_usd,
    the_day.date_day as as_of_date
from {marts}.fct_order_open_periods as orders
inner join {marts}.dim_date as the_day
    on
        orders.opened_at < the_day.date_day + 1
        and (orders.closed_at is null or orders.closed_at >= the_day.date_day + 1)
where {as_of}
group by the_day.date_day, orders.delivery_date
order by orders.delivery_date nulls last
""",
    as_of_predicate="the_day.date_day = %(as_of)s",
    without_as_of="the_day.is_business_today",
    as_of_note="the orders open at the end of that day (doc block open_order_periods); "
    "without it, business today",
)

TOP_CUSTOMERS = Question(
    name="top_customers",
    description="Customers ranked by lifetime recognised revenue, best first.",
    relations=("mart_top_customers",),
    sql="""
select
    customer_rank,
    customer_id,
    first_name,
    last_name,
    email_masked,
    country_code,
    recognised_orders,
    units_bought,
    lifetime_revenue_usd,
    first_order_at,
    last_order_at
from {marts}.mart_top_customers
order by customer_rank
""",
    as_of_note="the ranking is over lifetime revenue, the mart keeps no cut-off",
)

MONTHLY_REVENUE = Question(
    name="monthly_revenue",
    description="Recognised orders, revenue, average order value and growth per calendar "
    "month, oldest month first.",
    relations=("fct_sales", "dim_date"),
    saved_query="monthly_revenue",
    sql="""
select
    cast(answer.metric_time__month as date) as month_start_date,
    answer.orders as recognised_orders,
    cast(answer.revenue as numeric(28, 6)) as net_revenue_usd,
    cast(answer.average_order_value as numeric(28, 6)) as average_order_value_usd,
    cast(answer.revenue_previous_month as numeric(28, 6)) as previous_month_revenue_usd,
    cast(answer.revenue_growth_mom as numeric(28, 6)) as month_over_month_growth_rate
from ({metrics}) as answer
where answer.revenue is not null and {as_of}
order by month_start_date
""",
    as_of_predicate="cast(answer.metric_time__month as date) <= %(as_of)s",
    as_of_note="months up to and including the month of the date",
)

MONTHLY_REVENUE_BY_CHANNEL = Question(
    name="monthly_revenue_by_channel",
    description="Recognised orders, revenue, average order value and growth per calendar "
    "month and sales channel, oldest month first (finance's monthly file).",
    relations=("fct_sales", "dim_date"),
    saved_query="monthly_revenue_by_channel",
    sql="""
select
    cast(answer.metric_time__month as date) as month_start_date,
    answer.channel,
    answer.orders as recognised_orders,
    cast(answer.revenue as numeric(28, 6)) as net_revenue_usd,
    cast(answer.average_order_value as numeric(28, 6)) as average_order_value_usd,
    cast(answer.revenue_growth_mom as numeric(28, 6)) as month_over_month_growth_rate
from ({metrics}) as answer
where answer.revenue is not null and {as_of}
order by month_start_date, channel
""",
    as_of_predicate="cast(answer.metric_time__month as date) <= %(as_of)s",
    as_of_note="months up to and including the month of the date",
)

AOV_BY_COUNTRY = Question(
    name="aov_by_country",
    description="Recognised orders, revenue and average order value per customer country "
    "(at the time of the order), highest average first.",
    relations=("fct_sales", "dim_customers"),
    saved_query="aov_by_country",
    sql="""
select
    answer.customer_version__country_code as country_code,
    answer.customer_version__country_name as country_name,
    answer.customer_version__region as region,
    answer.orders as recognised_orders,
    cast(answer.revenue as numeric(28, 6)) as net_revenue_usd,
    cast(answer.average_order_value as numeric(28, 6)) as average_order_value_usd
from ({metrics}) as answer
order by average_order_value_usd desc, country_code
""",
    as_of_note="the saved query totals all recognised orders per country and keeps no dates",
)

BEST_SELLERS = Question(
    name="best_sellers",
    description="Products ranked by units sold within each category.",
    relations=("mart_best_sellers_by_category",),
    sql="""
select
    category,
    category_rank,
    product_id,
    sku,
    product_title,
    brand,
    units_sold,
    net_revenue_usd
from {marts}.mart_best_sellers_by_category
order by category, category_rank, product_id
""",
    as_of_note="the ranking totals all sales per product and keeps no dates",
)

QUESTIONS: dict[str, Question] = {
    question.name: question
    for question in (
        OPEN_ORDERS,
        PENDING_ITEMS,
        TOP_DELIVERY_DATES,
        OPEN_ORDERS_BY_DELIVERY_DATE,
        CUSTOMERS_WITH_OPEN_ORDERS,
        TOP_CUSTOMERS,
        MONTHLY_REVENUE,
        MONTHLY_REVENUE_BY_CHANNEL,
        AOV_BY_COUNTRY,
        BEST_SELLERS,
    )
}
"""Every question, by name, in the order `shopflow export --list` shows them."""


def question(name: str) -> Question:
    """The question called ``name``; ``UnknownQuestionError`` names the valid ones."""
    try:
        return QUESTIONS[name]
    except KeyError:
        raise UnknownQuestionError(
            f"There is no question named {name!r}: choose one of {', '.join(QUESTIONS)} "
            "(`shopflow export --list` describes them)."
        ) from None
