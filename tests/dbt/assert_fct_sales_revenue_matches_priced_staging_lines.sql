{#- Recognised revenue in fct_sales equals the revenue priced again, independently, from the
    valid staging lines: ops lines of orders whose status is recognised
    (var recognised_order_statuses) at quantity x unit price x (1 - discount), plus every
    valid marketplace sale at its gross amount, each converted at the rate of its month.
    Catches a fan-out join, a wrong status filter and a dropped currency conversion upstream
    of the fact. Returns one row per channel family whose totals differ by more than a cent. -#}
with

order_items as (

    select
        order_id,
        quantity,
        unit_price,
        discount_rate
    from {{ ref("stg_ops__order_items") }}
    where is_valid

),

orders as (

    select
        order_id,
        order_status,
        currency_code,
        ordered_at
    from {{ ref("stg_ops__orders") }}
    where is_valid

),

marketplace_sales as (

    select
        currency_code,
        gross_amount,
        sold_at
    from {{ ref("stg_storefront__marketplace_sales") }}
    where is_valid

),

{{ exchange_rates_import() }},

fct_sales as (

    select
        channel,
        net_revenue_usd
    from {{ ref("fct_sales") }}
    where is_recognised

),

expected_ops as (

    select
        'ops' as channel_family,
        sum(
            order_items.quantity * order_items.unit_price * (1 - order_items.discount_rate)
            * exchange_rates.rate_to_usd
        ) as revenue_usd
    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
    {{ join_exchange_rate("orders.currency_code", "orders.ordered_at", join_type="inner") }}
    where {{ is_in_list("orders.order_status", var("recognised_order_statuses")) }}

),

expected_marketplace as (

    select
        'marketplace' as channel_family,
        sum(marketplace_sales.gross_amount * exchange_rates.rate_to_usd) as revenue_usd
    from marketplace_sales
    {{ join_exchange_rate(
        "marketplace_sales.currency_code", "marketplace_sales.sold_at", join_type="inner"
    ) }}

),

expected as (

    select * from expected_ops
    union all
    select * from expected_marketplace

),

actual as (

    select
        case when fct_sales.channel = 'marketplace' then 'marketplace' else 'ops' end
            as channel_family,
        sum(fct_sales.net_revenue_usd) as revenue_usd
    from fct_sales
    group by 1

),

compared as (

    select
        expected.channel_family,
        expected.revenue_usd as expected_revenue_usd,
        actual.revenue_usd as fct_sales_revenue_usd
    from expected
    left join actual
        on expected.channel_family = actual.channel_family

)

select *
from compared
where
    abs(coalesce(expected_revenue_usd, 0) - coalesce(fct_sales_revenue_usd, 0))
    > 0.01
