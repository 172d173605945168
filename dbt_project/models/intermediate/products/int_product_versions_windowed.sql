{#- The product snapshot's rows, built as int_customer_versions_windowed builds the
    customer snapshot's (see its note on where the history comes from). -#}
with

product_snapshot as (

    select
        {{ product_raw_columns() }},
        dbt_valid_from,
        dbt_valid_to,
        _dlt_load_id
    from {{ scd2_history("snap_storefront__products", "stg_storefront__product_versions") }}

),

{{ scd2_versions_numbered(
    "product_snapshot", "product_id", product_attributes("product_snapshot"),
) }},

final as (

    select
        {{ generate_surrogate_key(["numbered.product_id", "numbered.valid_from"]) }}
            as product_key,
        numbered.product_id,
        numbered.sku,
        numbered.product_title,
        numbered.brand,
        numbered.category,
        numbered.currency_code,
        numbered.list_price,
        numbered.stock_quantity,
        numbered.version_number,
        numbered.is_deleted,
        numbered.valid_to is null as is_current,
        numbered.created_at,
        numbered.valid_from,
        numbered.valid_to,
        numbered.loaded_at,
        {{ scd2_join_window(
            "numbered.version_number", "numbered.valid_from", "numbered.valid_to"
        ) }}
    from numbered

)

select * from final
