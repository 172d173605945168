with

source as (

    select
        {{ product_raw_columns() }},
        updated_at,
        _dlt_load_id,
        _dlt_id
    from {{ source("storefront", "products") }}

),

renamed as (

    select
        {{ product_attributes("source") }},
        cast(source._dlt_id as {{ dbt.type_string() }}) as product_row_id,
        {{ to_utc_timestamp("source.updated_at") }} as updated_at,
        {{ dlt_loaded_at("source._dlt_load_id") }} as loaded_at
    from source

),

deduplicated as (

    {{ deduplicate_to_latest("renamed", "product_id", "updated_at desc, loaded_at desc") }}

),

validated as (

    select
        deduplicated.*,
        case
            when deduplicated.sku is null then 'sku is missing'
            when deduplicated.product_title is null then 'title is missing'
            when coalesce(deduplicated.list_price, 0) <= 0 then 'price is not positive'
            when not {{ is_in_list("deduplicated.currency_code", var("currencies")) }}
                then 'unsupported currency'
            when coalesce(deduplicated.stock_quantity, -1) < 0 then 'stock is negative or missing'
            when deduplicated.updated_at is null then 'updated_at is missing'
        end as invalid_reason
    from deduplicated

),

final as (

    select
        product_id,
        product_row_id,
        sku,
        product_title,
        brand,
        category,
        currency_code,
        invalid_reason,
        list_price,
        stock_quantity,
        is_deleted,
        {{ validity_flag("invalid_reason") }} as is_valid,
        created_at,
        updated_at,
        loaded_at
    from validated

)

select * from final
