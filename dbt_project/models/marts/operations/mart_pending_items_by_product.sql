with

open_lines as (

    select
        order_id,
        product_id,
        quantity,
        net_amount_usd
    from {{ ref("fct_sales") }}
    where
        channel <> 'marketplace'
        and {{ is_open_order_status("order_status") }}
        and product_id is not null

),

current_products as (

    select
        product_id,
        sku,
        product_title,
        category,
        stock_quantity
    from {{ ref("dim_products") }}
    where is_current

),

per_product as (

    {#- rule: doc block `open_orders` (pending items) -#}
    select
        open_lines.product_id,
        count(distinct open_lines.order_id) as open_orders,
        sum(open_lines.quantity) as pending_quantity,
        sum(open_lines.net_amount_usd) as pending_amount_usd
    from open_lines
    group by open_lines.product_id

),

final as (

    select
        per_product.product_id,
        current_products.sku,
        current_products.product_title,
        current_products.category,
        cast(per_product.open_orders as {{ dbt.type_int() }}) as open_orders,
        cast(per_product.pending_quantity as {{ dbt.type_int() }}) as pending_quantity,
        current_products.stock_quantity,
        cast(per_product.pending_amount_usd as {{ dbt.type_numeric() }}) as pending_amount_usd,
        coalesce(current_products.stock_quantity < per_product.pending_quantity, false)
            as is_stock_short
    from per_product
    left join current_products
        on per_product.product_id = current_products.product_id

)

select * from final
