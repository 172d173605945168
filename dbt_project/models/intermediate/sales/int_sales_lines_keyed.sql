{#- Both sales channels in one shape, keyed to the customer and product versions valid at
    the time of sale (doc block `point_in_time_join`), unknown members where none is. -#}
with

order_items as (

    select
        order_item_id,
        order_id,
        customer_id,
        product_id,
        sku,
        order_status,
        channel,
        currency_code,
        quantity,
        unit_price,
        discount_rate,
        gross_amount,
        discount_amount,
        net_amount,
        exchange_rate_to_usd,
        gross_amount_usd,
        discount_amount_usd,
        net_amount_usd,
        net_revenue_usd,
        is_recognised,
        ordered_at,
        source_updated_at,
        loaded_at
    from {{ ref("int_order_items_priced") }}

),

marketplace_sales as (

    select
        partner_order_id,
        product_id,
        partner_name,
        sku,
        currency_code,
        quantity,
        unit_price,
        gross_amount,
        net_amount,
        exchange_rate_to_usd,
        gross_amount_usd,
        net_amount_usd,
        net_revenue_usd,
        is_recognised,
        sold_at,
        loaded_at
    from {{ ref("int_marketplace_sales_priced") }}

),

customer_versions as (

    select
        customer_key,
        customer_id,
        window_start_at,
        window_end_at
    from {{ ref("int_customer_versions_windowed") }}

),

product_versions as (

    select
        product_key,
        product_id,
        window_start_at,
        window_end_at
    from {{ ref("int_product_versions_windowed") }}

),

sales_lines as (

    select
        {{ dbt.concat(["'ops-'", dbt.safe_cast("order_items.order_item_id", dbt.type_string())]) }}
            as sale_line_id,
        {{ dbt.concat(["'ops-'", dbt.safe_cast("order_items.order_id", dbt.type_string())]) }}
            as sales_order_id,
        order_items.order_id,
        order_items.order_item_id,
        order_items.customer_id,
        order_items.product_id,
        cast(null as {{ dbt.type_string() }}) as partner_order_id,
        cast(null as {{ dbt.type_string() }}) as partner_name,
        order_items.sku,
        order_items.channel,
        order_items.order_status,
        order_items.currency_code,
        order_items.quantity,
        order_items.unit_price,
        order_items.discount_rate,
        order_items.gross_amount,
        order_items.discount_amount,
        order_items.net_amount,
        order_items.exchange_rate_to_usd,
        order_items.gross_amount_usd,
        order_items.discount_amount_usd,
        order_items.net_amount_usd,
        order_items.net_revenue_usd,
        order_items.is_recognised,
        order_items.ordered_at as sold_at,
        order_items.source_updated_at,
        order_items.loaded_at
    from order_items

    union all

    select
        {{ dbt.concat(["'marketplace-'", "marketplace_sales.partner_order_id"]) }}
            as sale_line_id,
        {{ dbt.concat(["'marketplace-'", "marketplace_sales.partner_order_id"]) }}
            as sales_order_id,
        cast(null as {{ dbt.type_bigint() }}) as order_id,
        cast(null as {{ dbt.type_bigint() }}) as order_item_id,
        cast(null as {{ dbt.type_bigint() }}) as customer_id,
        marketplace_sales.product_id,
        marketplace_sales.partner_order_id,
        marketplace_sales.partner_name,
        marketplace_sales.sku,
        'marketplace' as channel,
        cast(null as {{ dbt.type_string() }}) as order_status,
        marketplace_sales.currency_code,
        marketplace_sales.quantity,
        marketplace_sales.unit_price,
        0 as discount_rate,
        marketplace_sales.gross_amount,
        0 as discount_amount,
        marketplace_sales.net_amount,
        marketplace_sales.exchange_rate_to_usd,
        marketplace_sales.gross_amount_usd,
        0 as discount_amount_usd,
        marketplace_sales.net_amount_usd,
        marketplace_sales.net_revenue_usd,
        marketplace_sales.is_recognised,
        marketplace_sales.sold_at,
        marketplace_sales.sold_at as source_updated_at,
        marketplace_sales.loaded_at
    from marketplace_sales

),

final as (

    select
        sales_lines.sale_line_id,
        sales_lines.sales_order_id,
        coalesce(customer_versions.customer_key, {{ unknown_member_key() }}) as customer_key,
        coalesce(product_versions.product_key, {{ unknown_member_key() }}) as product_key,
        {{ date_key("sales_lines.sold_at") }} as date_key,
        sales_lines.order_id,
        sales_lines.order_item_id,
        sales_lines.customer_id,
        sales_lines.product_id,
        sales_lines.partner_order_id,
        sales_lines.partner_name,
        sales_lines.sku,
        sales_lines.channel,
        sales_lines.order_status,
        sales_lines.currency_code,
        sales_lines.quantity,
        cast(sales_lines.unit_price as {{ dbt.type_numeric() }}) as unit_price,
        cast(sales_lines.discount_rate as {{ dbt.type_numeric() }}) as discount_rate,
        cast(sales_lines.gross_amount as {{ dbt.type_numeric() }}) as gross_amount,
        cast(sales_lines.discount_amount as {{ dbt.type_numeric() }}) as discount_amount,
        cast(sales_lines.net_amount as {{ dbt.type_numeric() }}) as net_amount,
        cast(sales_lines.exchange_rate_to_usd as {{ dbt.type_numeric() }}) as exchange_rate_to_usd,
        cast(sales_lines.gross_amount_usd as {{ dbt.type_numeric() }}) as gross_amount_usd,
        cast(sales_lines.discount_amount_usd as {{ dbt.type_numeric() }}) as discount_amount_usd,
        cast(sales_lines.net_amount_usd as {{ dbt.type_numeric() }}) as net_amount_usd,
        cast(sales_lines.net_revenue_usd as {{ dbt.type_numeric() }}) as net_revenue_usd,
        sales_lines.is_recognised,
        cast(sales_lines.sold_at as date) as sold_date,
        sales_lines.sold_at,
        sales_lines.source_updated_at,
        sales_lines.loaded_at
    from sales_lines
    left join customer_versions
        on
            sales_lines.customer_id = customer_versions.customer_id
            and {{ is_version_valid_at("sales_lines.sold_at", "customer_versions") }}
    left join product_versions
        on
            sales_lines.product_id = product_versions.product_id
            and {{ is_version_valid_at("sales_lines.sold_at", "product_versions") }}

)

select * from final
