{{ config(**staging_incremental_config("ops", "payments", "payment_id", ["order_id"])) }}

{#- Incremental rule: doc block `incremental_staging`. -#}
with

{{ ops_source_import("payments", "payment_id", [
    "payment_id", "order_id", "method", "status", "amount", "currency", "paid_at",
]) }},

renamed as (

    select
        cast(source.payment_id as {{ dbt.type_bigint() }}) as payment_id,
        cast(source.order_id as {{ dbt.type_bigint() }}) as order_id,
        lower(trim(source.method)) as payment_method,
        lower(trim(source.status)) as payment_status,
        upper(trim(source.currency)) as currency_code,
        cast(source.amount as {{ dbt.type_numeric() }}) as amount,
        {{ to_utc_timestamp("source.paid_at") }} as paid_at,
        {{ ops_record_columns("source") }}
    from source

),

{{ ops_latest_versions("payment_id") }},

validated as (

    select
        deduplicated.*,
        case
            when deduplicated.order_id is null then 'order_id is missing'
            when not {{ is_in_list("deduplicated.payment_status", var("payment_statuses")) }}
                then 'unknown status'
            when not {{ is_in_list("deduplicated.currency_code", var("currencies")) }}
                then 'unsupported currency'
            when coalesce(deduplicated.amount, -1) < 0 then 'amount is negative or missing'
        end as invalid_reason
    from deduplicated

),

final as (

    select
        payment_id,
        order_id,
        payment_method,
        payment_status,
        currency_code,
        invalid_reason,
        amount,
        {{ validity_flag("invalid_reason") }} as is_valid,
        paid_at,
        created_at,
        updated_at,
        loaded_at,
        load_id,
        {{ built_at() }} as dbt_built_at
    from validated

)

select * from final
