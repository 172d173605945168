{{ config(materialized="view") }}

with

orders as (

    select
        order_id,
        customer_id,
        order_status,
        is_open,
        delivery_date,
        units,
        net_amount_usd,
        ordered_at,
        shipped_at,
        updated_at
    from {{ ref("fct_orders") }}

),

final as (

    {#- rule: doc block `open_order_periods` -#}
    select
        orders.order_id,
        orders.customer_id,
        orders.order_status,
        orders.delivery_date,
        orders.units,
        orders.net_amount_usd,
        orders.ordered_at as opened_at,
        case
            when orders.is_open then null
            when orders.shipped_at is not null then orders.shipped_at
            else orders.updated_at
        end as closed_at,
        case
            when orders.is_open then null
            when orders.shipped_at is not null then 'shipped'
            else orders.order_status
        end as close_reason
    from orders

)

select * from final
