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

    select
        event_id,
        customer_key,
        product_key,
        date_key,
        user_id,
        customer_id,
        order_id,
        event_name,
        platform,
        product_name,
        sku,
        source_file,
        event_date,
        event_at,
        loaded_at
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
