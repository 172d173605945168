{{ config(**incremental_by_key_config(
    "order_id",
    ["customer_id", "loaded_at", "dbt_built_at"],
    unique_index=["order_id"],
    pre_hook="{{ delete_orders_touched() }}",
)) }}

{#- Incremental rule: doc block `incremental_lines`; the staging models are read by
    incremental runs only, hence the hints. -#}
{#- One row per valid ops order with its lines, payments and delivery rolled up. -#}
-- depends_on: {{ ref("stg_ops__order_items") }}
with

{% if is_incremental() -%}
touched_orders as (

    {{ orders_touched() }}

),

{% endif -%}
orders as (

    select
        order_id,
        customer_id,
        order_status,
        payment_method,
        currency_code,
        channel,
        is_customer_erased,
        delivery_date,
        ordered_at,
        updated_at,
        loaded_at
    from {{ ref("stg_ops__orders") }}
    where
        is_valid
        and {{ in_incremental_run(
            "order_id = any(array(select touched_orders.order_id from touched_orders))"
        ) }}

),

order_items as (

    select
        order_id,
        quantity,
        gross_amount,
        discount_amount,
        net_amount,
        net_amount_usd,
        net_revenue_usd,
        is_recognised,
        is_open,
        loaded_at
    from {{ ref("int_order_items_priced") }}
    where {{ in_incremental_run(
        "order_id = any(array(select touched_orders.order_id from touched_orders))"
    ) }}

),

payments as (

    select
        order_id,
        payment_status,
        amount,
        loaded_at
    from {{ ref("stg_ops__payments") }}
    where
        is_valid
        and {{ in_incremental_run(
            "order_id = any(array(select touched_orders.order_id from touched_orders))"
        ) }}

),

deliveries as (

    select
        order_id,
        carrier,
        delivery_status,
        shipped_at,
        delivered_at,
        loaded_at
    from {{ ref("stg_ops__deliveries") }}
    where
        is_valid
        and {{ in_incremental_run(
            "order_id = any(array(select touched_orders.order_id from touched_orders))"
        ) }}

),

items_per_order as (

    select
        order_items.order_id,
        count(*) as line_count,
        sum(order_items.quantity) as units,
        sum(order_items.gross_amount) as gross_amount,
        sum(order_items.discount_amount) as discount_amount,
        sum(order_items.net_amount) as net_amount,
        sum(order_items.net_amount_usd) as net_amount_usd,
        sum(order_items.net_revenue_usd) as net_revenue_usd,
        max(order_items.loaded_at) as loaded_at
    from order_items
    group by order_items.order_id

),

payments_per_order as (

    select
        payments.order_id,
        count(*) as payment_count,
        sum(
            case when payments.payment_status = 'captured' then payments.amount else 0 end
        ) as captured_amount,
        max(payments.loaded_at) as loaded_at
    from payments
    group by payments.order_id

),

final as (

    select
        orders.order_id,
        orders.customer_id,
        orders.order_status,
        orders.payment_method,
        orders.currency_code,
        orders.channel,
        deliveries.carrier,
        deliveries.delivery_status,
        cast(coalesce(items_per_order.line_count, 0) as {{ dbt.type_int() }}) as line_count,
        cast(coalesce(items_per_order.units, 0) as {{ dbt.type_int() }}) as units,
        coalesce(items_per_order.gross_amount, 0) as gross_amount,
        coalesce(items_per_order.discount_amount, 0) as discount_amount,
        coalesce(items_per_order.net_amount, 0) as net_amount,
        coalesce(items_per_order.net_amount_usd, 0) as net_amount_usd,
        coalesce(items_per_order.net_revenue_usd, 0) as net_revenue_usd,
        cast(
            coalesce(payments_per_order.payment_count, 0) as {{ dbt.type_int() }}
        ) as payment_count,
        coalesce(payments_per_order.captured_amount, 0) as captured_amount,
        {{ is_recognised_order_status("orders.order_status") }} as is_recognised,
        {{ is_open_order_status("orders.order_status") }} as is_open,
        orders.is_customer_erased,
        orders.delivery_date,
        orders.ordered_at,
        deliveries.shipped_at,
        deliveries.delivered_at,
        orders.updated_at,
        {#- greatest() skips nulls: an order without lines, payments or delivery -#}
        greatest(
            orders.loaded_at,
            items_per_order.loaded_at,
            payments_per_order.loaded_at,
            deliveries.loaded_at
        ) as loaded_at,
        {{ built_at() }} as dbt_built_at
    from orders
    left join items_per_order
        on orders.order_id = items_per_order.order_id
    left join payments_per_order
        on orders.order_id = payments_per_order.order_id
    left join deliveries
        on orders.order_id = deliveries.order_id

)

select * from final
