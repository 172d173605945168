{{ config(**incremental_by_key_config(
    "sale_line_id",
    ["date_key", "customer_key", "product_key", "loaded_at", "dbt_built_at"],
)) }}

{#- Incremental rule: doc block `incremental_facts`; the versions are read only by
    incremental runs, hence the hints. -#}
-- depends_on: {{ ref("int_customer_versions_windowed") }}
-- depends_on: {{ ref("int_product_versions_windowed") }}
{#- the contract's columns (fct_sales.yml) but the build time -#}
{%- set columns = documented_columns("fct_sales", excluded=["dbt_built_at"]) %}
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
