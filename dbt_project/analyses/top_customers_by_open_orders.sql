{#- Which customers wait on the most open orders? -#}
with

customers_with_open_orders as (

    select
        open_orders_rank,
        customer_id,
        first_name,
        last_name,
        email_masked,
        country_code,
        open_orders,
        open_amount_usd,
        next_delivery_date
    from {{ ref("mart_customers_with_open_orders") }}

)

select *
from customers_with_open_orders
where open_orders_rank <= 10
order by open_orders_rank
