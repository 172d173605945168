{#- One row per ops customer who ever ordered: recognised sales (recognised revenue rule)
    and order counts by outcome. Shared by the top-customers, CLV and RFM marts: a table, so
    that they and its tests read it instead of recomputing it. Marketplace sales carry no
    customer, so the ops order lines are all of a customer's sales. -#}
with

sales_lines as (

    select
        customer_id,
        order_id,
        product_id,
        quantity,
        net_revenue_usd,
        ordered_at
    from {{ ref("int_order_items_priced") }}
    where is_recognised and customer_id is not null

),

orders as (

    select
        customer_id,
        order_status,
        is_open
    from {{ ref("int_orders_summarised") }}
    where customer_id is not null

),

recognised_per_customer as (

    select
        sales_lines.customer_id,
        count(distinct sales_lines.order_id) as recognised_orders,
        count(distinct sales_lines.product_id) as distinct_products,
        sum(sales_lines.quantity) as units_bought,
        sum(sales_lines.net_revenue_usd) as lifetime_revenue_usd,
        min(sales_lines.ordered_at) as first_order_at,
        max(sales_lines.ordered_at) as last_order_at
    from sales_lines
    group by sales_lines.customer_id

),

orders_per_customer as (

    select
        orders.customer_id,
        count(*) as all_orders,
        sum(case when orders.order_status = 'cancelled' then 1 else 0 end) as cancelled_orders,
        sum(case when orders.order_status = 'refunded' then 1 else 0 end) as refunded_orders,
        sum(case when orders.is_open then 1 else 0 end) as open_orders
    from orders
    group by orders.customer_id

),

final as (

    select
        orders_per_customer.customer_id,
        cast(coalesce(recognised_per_customer.recognised_orders, 0) as {{ dbt.type_int() }})
            as recognised_orders,
        cast(orders_per_customer.all_orders as {{ dbt.type_int() }}) as all_orders,
        cast(orders_per_customer.cancelled_orders as {{ dbt.type_int() }}) as cancelled_orders,
        cast(orders_per_customer.refunded_orders as {{ dbt.type_int() }}) as refunded_orders,
        cast(orders_per_customer.open_orders as {{ dbt.type_int() }}) as open_orders,
        cast(coalesce(recognised_per_customer.distinct_products, 0) as {{ dbt.type_int() }})
            as distinct_products,
        cast(coalesce(recognised_per_customer.units_bought, 0) as {{ dbt.type_int() }})
            as units_bought,
        cast(
            coalesce(recognised_per_customer.lifetime_revenue_usd, 0) as {{ dbt.type_numeric() }}
        ) as lifetime_revenue_usd,
        recognised_per_customer.first_order_at,
        recognised_per_customer.last_order_at
    from orders_per_customer
    left join recognised_per_customer
        on orders_per_customer.customer_id = recognised_per_customer.customer_id

)

select * from final
