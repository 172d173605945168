{{ config(**incremental_by_key_config(
    "event_id",
    ["date_key", "customer_key", "product_key", "loaded_at", "dbt_built_at"],
)) }}

{#- Incremental rule: doc block `incremental_facts`; the versions are read only by
    incremental runs, hence the hints. -#}
-- depends_on: {{ ref("int_customer_versions_windowed") }}
-- depends_on: {{ ref("int_product_versions_windowed") }}
with

events as (

    {#- the contract's columns (fct_events.yml) but the build time #}
    select
        {{ documented_columns("fct_events", excluded=["dbt_built_at"]) | join(",\n        ") }}
    from {{ ref("int_events_keyed") }}

),

{% if is_incremental() -%}
refreshed as (

    {{ facts_to_refresh(ref("int_events_keyed"), ["event_id"], "event_at", [
        {"versions": ref("int_customer_versions_windowed"), "column": "customer_id",
            "key": "customer_key"},
        {"versions": ref("int_product_versions_windowed"), "column": "sku",
            "key": "product_key"},
    ]) }}

),

{% endif -%}
final as (

    select
        events.*,
        {{ built_at() }} as dbt_built_at
    from events
    {% if is_incremental() -%}
    where events.event_id = any(array(select refreshed.event_id from refreshed))
    {%- endif %}

)

select * from final
