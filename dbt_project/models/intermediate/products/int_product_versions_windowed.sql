{{ config(
    materialized="table",
    indexes=[
        {"columns": ["product_key"], "unique": true},
        {"columns": ["product_id"]},
        {"columns": ["sku"]},
    ],
) }}

{#- Snapshot rows renamed and typed like staging, with the point-in-time join window
    (doc block `point_in_time_join`). The history is the dbt snapshot: read in place on
    Postgres, and on engines without snapshots as the lake export carries it (the staging
    projection of it; docs/scale-out.md, "SCD2 on both engines"), so both build the same
    versions after any number of runs. -#}
{%- set history = (
    ref("snap_storefront__products") if target.type == "postgres"
    else ref("stg_storefront__product_versions")
) -%}
with

product_snapshot as (

    select
        id,
        sku,
        title,
        brand,
        category,
        price,
        currency,
        stock,
        is_deleted,
        created_at,
        dbt_valid_from,
        dbt_valid_to,
        _dlt_load_id
    from {{ history }}

),

renamed as (

    select
        {{ product_attributes("product_snapshot") }},
        {{ to_utc_timestamp("product_snapshot.dbt_valid_from") }} as valid_from,
        {{ to_utc_timestamp("product_snapshot.dbt_valid_to") }} as valid_to,
        {{ dlt_loaded_at("product_snapshot._dlt_load_id") }} as loaded_at
    from product_snapshot

),

numbered as (

    select
        renamed.*,
        row_number() over (
            partition by renamed.product_id order by renamed.valid_from
        ) as version_number
    from renamed

),

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
