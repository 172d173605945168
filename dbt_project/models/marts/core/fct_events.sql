{{ config(
    materialized="incremental",
    unique_key="event_id",
    incremental_strategy="delete+insert",
    on_schema_change="append_new_columns",
    contract={"enforced": true},
    indexes=[
        {"columns": ["event_id"], "unique": true},
        {"columns": ["date_key"]},
        {"columns": ["customer_key"]},
        {"columns": ["loaded_at"]},
    ],
) }}

{#- Incremental rule: doc block `incremental_facts`. -#}
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

final as (

    select events.*
    from events
    where
        {{ incremental_lookback_filter("events.loaded_at", "loaded_at") }}
    {% if is_incremental() -%}
    or events.event_id in (
        select previous.event_id
        from {{ this }} as previous
        where
            previous.customer_key = {{ unknown_member_key() }}
            or previous.product_key = {{ unknown_member_key() }}
    )
    {%- endif %}

)

select * from final
