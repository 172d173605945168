{#- Every valid ops order whose status is recognised (var recognised_order_statuses) is in
    fct_orders, flagged recognised, and its lines' recognised revenue in fct_sales adds up to
    the order's. Catches an inner join that drops orders (a customer version missing, an
    erased customer) and a wrong status rule in either fact. Returns the offending orders.
    Row-level per order, so it checks the orders the last run wrote: the latest batch (doc
    block `dbt_built_at`) of stg_ops__orders and of fct_orders, every order after a full
    build. -#}
with

recognised_orders as (

    select
        order_id,
        dbt_built_at
    from {{ ref("stg_ops__orders") }}
    where
        is_valid
        and {{ is_in_list("order_status", var("recognised_order_statuses")) }}

),

orders as (

    select recognised_orders.order_id
    from recognised_orders
    where
        recognised_orders.dbt_built_at = (
            select max(staged.dbt_built_at) from {{ ref("stg_ops__orders") }} as staged
        )

    union

    select recognised_orders.order_id
    from recognised_orders
    inner join {{ ref("fct_orders") }} as built
        on recognised_orders.order_id = built.order_id
    where
        built.dbt_built_at = (
            select max(newest.dbt_built_at) from {{ ref("fct_orders") }} as newest
        )

),

fct_orders as (

    select
        order_id,
        sales_order_id,
        net_revenue_usd,
        is_recognised
    from {{ ref("fct_orders") }}

),

checked_sales_orders as (

    select fct_orders.sales_order_id
    from orders
    inner join fct_orders
        on orders.order_id = fct_orders.order_id

),

sales_per_order as (

    -- only the lines of the orders checked: summing every line of fct_sales cost most of
    -- the test's time at scale 100 (900,000 lines for a few thousand orders)
    select
        sales.sales_order_id,
        sum(sales.net_revenue_usd) as net_revenue_usd
    from {{ ref("fct_sales") }} as sales
    inner join checked_sales_orders
        on sales.sales_order_id = checked_sales_orders.sales_order_id
    where sales.channel <> 'marketplace'
    group by sales.sales_order_id

),

final as (

    select
        orders.order_id,
        fct_orders.is_recognised,
        fct_orders.net_revenue_usd as order_revenue_usd,
        sales_per_order.net_revenue_usd as lines_revenue_usd,
        case
            when fct_orders.order_id is null then 'missing from fct_orders'
            when not fct_orders.is_recognised then 'not recognised in fct_orders'
            when
                abs(fct_orders.net_revenue_usd - coalesce(sales_per_order.net_revenue_usd, 0))
                > 0.01
                then 'order and line revenue differ'
        end as problem
    from orders
    left join fct_orders
        on orders.order_id = fct_orders.order_id
    left join sales_per_order
        on fct_orders.sales_order_id = sales_per_order.sales_order_id

)

select *
from final
where problem is not null
