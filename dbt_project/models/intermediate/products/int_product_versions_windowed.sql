{#- The product snapshot's rows renamed and typed like staging, with the point-in-time join
    window (doc block `point_in_time_join`). The history is the dbt snapshot: read in place on
    Postgres, and on engines without snapshots as the lake export carries it (the staging
    projection of it; docs/scale-out.md, "SCD2 on both engines"), so both build the same
    versions after any number of runs. -#}
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
