{{ config(**staging_incremental_config(
    "storefront",
    "sales",
    "partner_order_id",
    ["sku"],
    after_rebuild_only=true,
)) }}

{#- Incremental rule: doc block `incremental_staging`. -#}
with

source as (

    select
        partner_order_id,
        partner_name,
        sku,
        quantity,
        gross_amount,
        currency,
        sold_at,
        _dlt_load_id
    from {{ source("storefront", "sales") }}
    where {{ touched_keys_filter(source("storefront", "sales"), "partner_order_id") }}

),

renamed as (

    select
        trim(source.partner_order_id) as partner_order_id,
        trim(source.partner_name) as partner_name,
        upper(trim(source.sku)) as sku,
        upper(trim(source.currency)) as currency_code,
        cast(source.quantity as {{ dbt.type_int() }}) as quantity,
        cast(source.gross_amount as {{ dbt.type_numeric() }}) as gross_amount,
        {{ to_utc_timestamp("source.sold_at") }} as sold_at,
        {{ dlt_loaded_at("source._dlt_load_id") }} as loaded_at,
        source._dlt_load_id as load_id
    from source

),

deduplicated as (

    {{ deduplicate_to_latest("renamed", "partner_order_id", "loaded_at desc, sold_at desc") }}

),

validated as (

    select
        deduplicated.*,
        case
            when deduplicated.sku is null then 'sku is missing'
            when coalesce(deduplicated.quantity, 0) <= 0 then 'quantity is not positive'
            when coalesce(deduplicated.gross_amount, -1) < 0
                then 'gross amount is negative or missing'
            when not {{ is_in_list("deduplicated.currency_code", var("currencies")) }}
                then 'unsupported currency'
            when deduplicated.sold_at is null then 'sold_at is missing'
            when {{ is_outside_calendar("deduplicated.sold_at") }}
                then 'sold_at is outside the calendar'
        end as invalid_reason
    from deduplicated

),

final as (

    select
        partner_order_id,
        partner_name,
        sku,
        currency_code,
        invalid_reason,
        quantity,
        gross_amount,
        {{ validity_flag("invalid_reason") }} as is_valid,
        sold_at,
        loaded_at,
        load_id,
        {{ built_at() }} as dbt_built_at
    from validated

)

select * from final
