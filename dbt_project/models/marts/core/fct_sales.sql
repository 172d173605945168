{{ config(**incremental_by_key_config(
    "sale_line_id",
    ["date_key", "customer_key", "product_key", "loaded_at", "dbt_built_at"],
)) }}

{#- Incremental rule: doc block `incremental_facts`; the versions are read only by
    incremental runs, hence the hints. -#}
-- depends_on: {{ ref("int_customer_versions_windowed") }}
-- depends_on: {{ ref("int_product_versions_windowed") }}
{%- set columns = [
    "sale_line_id", "sales_order_id", "customer_key", "product_key", "date_key", "order_id",
    "order_item_id", "customer_id", "product_id", "partner_order_id", "partner_name", "sku",
    "channel", "order_status", "currency_code", "quantity", "unit_price", "discount_rate",
    "gross_amount", "discount_amount", "net_amount", "exchange_rate_to_usd",
    "gross_amount_usd", "discount_amount_usd", "net_amount_usd", "net_revenue_usd",
    "is_recognised", "sold_date", "sold_at", "source_updated_at", "loaded_at",
] %}
with

{% if is_incremental() -%}
refreshed as (

    {{ facts_to_refresh(ref("int_sales_lines_keyed"), ["order_item_id", "partner_order_id"],
        "sold_at", [
            {"versions": ref("int_customer_versions_windowed"), "column": "customer_id",
                "key": "customer_key", "known_when": "customer_id is not null"},
            {"versions": ref("int_product_versions_windowed"), "column": "product_id",
                "key": "product_key"},
        ]) }}

),

{% endif -%}
final as (

    {#- incremental: by the ids the line key is built from (the view's sale_line_id is an
        expression no index serves), one branch per channel family -#}
    select
        {{ columns | join(",\n        ") }},
        {{ built_at() }} as dbt_built_at
    from {{ ref("int_sales_lines_keyed") }}
    {% if is_incremental() -%}
    where
        order_item_id = any(array(
            select refreshed.order_item_id
            from refreshed
            where refreshed.order_item_id is not null
        ))

    union all

    select
        {{ columns | join(",\n        ") }},
        {{ built_at() }} as dbt_built_at
    from {{ ref("int_sales_lines_keyed") }}
    where
        partner_order_id = any(array(
            select refreshed.partner_order_id
            from refreshed
            where refreshed.partner_order_id is not null
        ))
    {%- endif %}

)

select * from final
