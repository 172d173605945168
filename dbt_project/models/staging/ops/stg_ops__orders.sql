{{ config(**staging_incremental_config(
    "ops",
    "orders",
    "order_id",
    ["customer_id", "updated_at"],
)) }}

{#- Incremental rule: doc block `incremental_staging`. -#}
with

{{ ops_source_import("orders", "order_id", [
    "order_id", "customer_id", "ordered_at", "status", "payment_method", "currency", "channel",
    "delivery_date",
]) }},

renamed as (

    select
        cast(source.order_id as {{ dbt.type_bigint() }}) as order_id,
        cast(source.customer_id as {{ dbt.type_bigint() }}) as customer_id,
        lower(trim(source.status)) as order_status,
        lower(trim(source.payment_method)) as payment_method,
        upper(trim(source.currency)) as currency_code,
        lower(trim(source.channel)) as channel,
        cast(source.delivery_date as date) as delivery_date,
        {{ to_utc_timestamp("source.ordered_at") }} as ordered_at,
        {{ ops_record_columns("source") }}
    from source

),

{{ ops_latest_versions("order_id") }},

validated as (

    select
        deduplicated.*,
        case
            when not {{ is_in_list("deduplicated.order_status", var("order_statuses")) }}
                then 'unknown status'
            when not {{ is_in_list("deduplicated.currency_code", var("currencies")) }}
                then 'unsupported currency'
            when not {{ is_in_list("deduplicated.channel", var("order_channels")) }}
                then 'unknown channel'
            when not {{ is_in_list("deduplicated.payment_method", var("payment_methods")) }}
                then 'unknown payment method'
            when deduplicated.ordered_at is null then 'ordered_at is missing'
            when {{ is_outside_calendar("deduplicated.ordered_at") }}
                then 'ordered_at is outside the calendar'
            when deduplicated.delivery_date < cast(deduplicated.ordered_at as date)
                then 'delivery_date before the order date'
        end as invalid_reason
    from deduplicated

),

final as (

    select
        order_id,
        customer_id,
        order_status,
        payment_method,
        currency_code,
        channel,
        invalid_reason,
        {{ validity_flag("invalid_reason") }} as is_valid,
        customer_id is null as is_customer_erased,
        delivery_date,
        ordered_at,
        created_at,
        updated_at,
        loaded_at,
        load_id,
        {{ built_at() }} as dbt_built_at
    from validated

)

select * from final
