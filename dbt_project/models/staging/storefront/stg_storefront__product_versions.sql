{{ config(enabled=target.type != "postgres") }}

{#- SCD2 on Spark (docs/scale-out.md, "SCD2 on both engines"): the product versions the raw
    layer holds, as a change log shaped like snap_storefront__products (the raw columns plus
    dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to), for engines without dbt
    snapshots. A version per product and `updated_at` (its newest load), valid from that
    `updated_at` until the next version's. Postgres reads the snapshot itself. -#}
with

source as (

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
        updated_at,
        _dlt_load_id,
        _dlt_id
    from {{ source("storefront", "products") }}

),

versions as (

    {{ deduplicate_to_latest("source", "id, updated_at", "_dlt_load_id desc") }}

),

final as (

    select
        versions.id,
        versions.sku,
        versions.title,
        versions.brand,
        versions.category,
        versions.price,
        versions.currency,
        versions.stock,
        versions.is_deleted,
        versions.created_at,
        versions.updated_at,
        versions._dlt_load_id,
        versions._dlt_id,
        {{ change_log_validity("versions", "id") }}
    from versions

)

select * from final
