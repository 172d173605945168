{#- Which products have the most units waiting on open orders, and is stock enough? -#}
with

pending_items as (

    select
        product_id,
        sku,
        product_title,
        category,
        open_orders,
        pending_quantity,
        stock_quantity,
        is_stock_short
    from {{ ref("mart_pending_items_by_product") }}

)

select *
from pending_items
order by pending_quantity desc, product_id asc
