{{ config(**staging_incremental_config(
    "files",
    "events",
    "event_id",
    ["customer_id", "sku", "event_at"],
    after_rebuild_only=true,
)) }}

{#- Incremental rule: doc block `incremental_staging`. -#}
with

source as (

    select
        event_id,
        timestamp,
        event_name,
        user_identifiers__platform,
        user_identifiers__id,
        product_information__name,
        product_information__sku,
        order_id,
        source_file,
        {{ column_or_default(
            source("files", "events"), "_arrived_by", "cast(null as " ~ dbt.type_string() ~ ")"
        ) }} as _arrived_by,
        _dlt_load_id
    from {{ source("files", "events") }}
    where {{ touched_keys_filter(source("files", "events"), "event_id") }}

),

renamed as (

    select
        trim(cast(source.event_id as {{ dbt.type_string() }})) as event_id,
        trim(cast(source.user_identifiers__id as {{ dbt.type_string() }})) as user_id,
        {{ safe_cast_to_integer("source.user_identifiers__id") }} as customer_id,
        {{ safe_cast_to_integer("source.order_id") }} as order_id,
        lower(trim(source.event_name)) as event_name,
        lower(trim(source.user_identifiers__platform)) as platform,
        trim(source.product_information__name) as product_name,
        upper(trim(source.product_information__sku)) as sku,
        source.source_file,
        {#- rows loaded before the stream existed carry no mark: they came in files -#}
        coalesce(source._arrived_by, 'file') as arrived_by,
        {{ to_utc_timestamp("source.timestamp") }} as event_at,
        {{ dlt_loaded_at("source._dlt_load_id") }} as loaded_at,
        source._dlt_load_id as load_id
    from source

),

deduplicated as (

    {{ deduplicate_to_latest("renamed", "event_id", "loaded_at desc, source_file desc") }}

),

validated as (

    select
        deduplicated.*,
        case
            when not {{ is_in_list("deduplicated.event_name", var("event_names")) }}
                then 'unknown event name'
            when not {{ is_in_list("deduplicated.platform", var("event_platforms")) }}
                then 'unknown platform'
            when deduplicated.customer_id is null then 'user id is not a customer id'
            when deduplicated.event_at is null then 'timestamp is missing'
            when {{ is_outside_calendar("deduplicated.event_at") }}
                then 'timestamp is outside the calendar'
            when deduplicated.event_name = 'purchase' and deduplicated.order_id is null
                then 'purchase without order_id'
        end as invalid_reason
    from deduplicated

),

final as (

    select
        event_id,
        user_id,
        customer_id,
        order_id,
        event_name,
        platform,
        product_name,
        sku,
        source_file,
        arrived_by,
        invalid_reason,
        {{ validity_flag("invalid_reason") }} as is_valid,
        cast(event_at as date) as event_date,
        event_at,
        loaded_at,
        load_id,
        {{ built_at() }} as dbt_built_at
    from validated

)

select * from final
