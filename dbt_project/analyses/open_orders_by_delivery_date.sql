{#- How many open (pending or paid) orders are promised for each coming day? -#}
with

open_orders as (

    select
        delivery_date,
        open_orders,
        pending_orders,
        paid_orders,
        open_units,
        open_amount_usd
    from {{ ref("mart_open_orders_by_delivery_date") }}

)

select *
from open_orders
order by delivery_date
