{{ config(**staging_incremental_config("ops", "deliveries", "delivery_id", ["order_id"])) }}

{#- Incremental rule: doc block `incremental_staging`. -#}
with

{{ ops_source_import("deliveries", "delivery_id", [
    "delivery_id", "order_id", "carrier", "status", "shipped_at", "delivered_at",
]) }},

renamed as (

    select
        cast(source.delivery_id as {{ dbt.type_bigint() }}) as delivery_id,
        cast(source.order_id as {{ dbt.type_bigint() }}) as order_id,
        trim(source.carrier) as carrier,
        lower(trim(source.status)) as delivery_status,
        {{ to_utc_timestamp("source.shipped_at") }} as shipped_at,
        {{ to_utc_timestamp("source.delivered_at") }} as delivered_at,
        {{ ops_record_columns("source") }}
    from source

),

{{ ops_latest_versions("delivery_id") }},

validated as (

    select
        deduplicated.*,
        case
            when deduplicated.order_id is null then 'order_id is missing'
            when not {{ is_in_list("deduplicated.delivery_status", var("delivery_statuses")) }}
                then 'unknown status'
            when deduplicated.delivered_at < deduplicated.shipped_at
                then 'delivered before shipped'
        end as invalid_reason
    from deduplicated

),

final as (

    select
        delivery_id,
        order_id,
        carrier,
        delivery_status,
        invalid_reason,
        {{ validity_flag("invalid_reason") }} as is_valid,
        shipped_at,
        delivered_at,
        created_at,
        updated_at,
        loaded_at,
        load_id,
        {{ built_at() }} as dbt_built_at
    from validated

)

select * from final
