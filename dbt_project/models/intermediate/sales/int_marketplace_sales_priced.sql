{#- Business rules: `line_net_amount` (marketplace: gross amount, no discount),
    `currency_conversion`, `recognised_revenue` (all marketplace sales count). -#}
with

marketplace_sales as (

    select
        partner_order_id,
        partner_name,
        sku,
        currency_code,
        quantity,
        gross_amount,
        sold_at,
        loaded_at
    from {{ ref("stg_storefront__marketplace_sales") }}
    where is_valid

),

products as (

    select
        product_id,
        sku
    from {{ ref("stg_storefront__products") }}

),

{{ exchange_rates_import() }},

final as (

    select
        marketplace_sales.partner_order_id,
        products.product_id,
        marketplace_sales.partner_name,
        marketplace_sales.sku,
        marketplace_sales.currency_code,
        marketplace_sales.quantity,
        cast(
            marketplace_sales.gross_amount / marketplace_sales.quantity as {{ dbt.type_numeric() }}
        ) as unit_price,
        cast(marketplace_sales.gross_amount as {{ dbt.type_numeric() }}) as gross_amount,
        cast(marketplace_sales.gross_amount as {{ dbt.type_numeric() }}) as net_amount,
        cast(exchange_rates.rate_to_usd as {{ dbt.type_numeric() }}) as exchange_rate_to_usd,
        cast(
            marketplace_sales.gross_amount * exchange_rates.rate_to_usd as {{ dbt.type_numeric() }}
        ) as gross_amount_usd,
        cast(
            marketplace_sales.gross_amount * exchange_rates.rate_to_usd as {{ dbt.type_numeric() }}
        ) as net_amount_usd,
        cast(
            marketplace_sales.gross_amount * exchange_rates.rate_to_usd as {{ dbt.type_numeric() }}
        ) as net_revenue_usd,
        true as is_recognised,
        marketplace_sales.sold_at,
        marketplace_sales.loaded_at
    from marketplace_sales
    left join products
        on marketplace_sales.sku = products.sku
    {{ join_exchange_rate("marketplace_sales.currency_code", "marketplace_sales.sold_at") }}

)

select * from final
