{{ config(
    materialized="incremental",
    unique_key="sale_line_id",
    incremental_strategy="delete+insert",
    on_schema_change="append_new_columns",
    contract={"enforced": true},
    indexes=[
        {"columns": ["sale_line_id"], "unique": true},
        {"columns": ["date_key"]},
        {"columns": ["customer_key"]},
        {"columns": ["product_key"]},
        {"columns": ["loaded_at"]},
    ],
) }}

{#- Incremental rule: doc block `incremental_facts`. -#}
with

sales_lines as (

    select
        sale_line_id,
        sales_order_id,
        customer_key,
        product_key,
        date_key,
        order_id,
        order_item_id,
        customer_id,
        product_id,
        partner_order_id,
        partner_name,
        sku,
        channel,
        order_status,
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
        sold_date,
        sold_at,
        source_updated_at,
        loaded_at
    from {{ ref("int_sales_lines_keyed") }}

),

final as (

    select sales_lines.*
    from sales_lines
    where
        {{ incremental_lookback_filter("sales_lines.loaded_at", "loaded_at") }}
    {% if is_incremental() -%}
    or sales_lines.sale_line_id in (
        select previous.sale_line_id
        from {{ this }} as previous
        where
            previous.product_key = {{ unknown_member_key() }}
            or (
                previous.customer_key = {{ unknown_member_key() }}
                and previous.customer_id is not null
            )
    )
    {%- endif %}

)

select * from final
