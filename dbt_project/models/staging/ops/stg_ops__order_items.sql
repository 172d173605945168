{{ config(**staging_incremental_config(
    "ops",
    "order_items",
    "order_item_id",
    ["order_id", "product_id"],
)) }}

{#- Incremental rule: doc block `incremental_staging`. -#}
with

{{ ops_source_import("order_items", "order_item_id", [
    "order_item_id", "order_id", "line_number", "product_id", "sku", "quantity", "unit_price",
    "discount",
]) }},

renamed as (

    select
        cast(source.order_item_id as {{ dbt.type_bigint() }}) as order_item_id,
        cast(source.order_id as {{ dbt.type_bigint() }}) as order_id,
        cast(source.product_id as {{ dbt.type_bigint() }}) as product_id,
        upper(trim(source.sku)) as sku,
        cast(source.line_number as {{ dbt.type_int() }}) as line_number,
        cast(source.quantity as {{ dbt.type_int() }}) as quantity,
        cast(source.unit_price as {{ dbt.type_numeric() }}) as unit_price,
        cast(source.discount as {{ dbt.type_numeric() }}) as discount_rate,
        {{ ops_record_columns("source") }}
    from source

),

{{ ops_latest_versions("order_item_id") }},

validated as (

    select
        deduplicated.*,
        case
            when deduplicated.order_id is null then 'order_id is missing'
            when deduplicated.product_id is null then 'product_id is missing'
            when coalesce(deduplicated.quantity, 0) <= 0 then 'quantity is not positive'
            when coalesce(deduplicated.unit_price, 0) <= 0 then 'unit_price is not positive'
            when
                deduplicated.discount_rate is null
                or deduplicated.discount_rate < 0
                or deduplicated.discount_rate > 0.5
                then 'discount outside 0-0.5'
        end as invalid_reason
    from deduplicated

),

final as (

    select
        order_item_id,
        order_id,
        product_id,
        sku,
        invalid_reason,
        line_number,
        quantity,
        unit_price,
        discount_rate,
        {{ validity_flag("invalid_reason") }} as is_valid,
        created_at,
        updated_at,
        loaded_at,
        load_id,
        {{ built_at() }} as dbt_built_at
    from validated

)

select * from final
