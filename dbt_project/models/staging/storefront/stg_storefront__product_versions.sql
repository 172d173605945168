{#- SCD2 on Spark (docs/scale-out.md, "SCD2 on both engines"; off on Postgres in
    dbt_project.yml): a plain projection of the history Postgres recorded, the snapshot
    snap_storefront__products as the lake export carries it. Nothing is derived here: the
    versions and their validity are Postgres's, so the engines agree after any number of runs.
    Postgres reads the snapshot itself. -#}
with

product_snapshot as (

    select
        dbt_scd_id,
        {{ product_raw_columns() }},
        updated_at,
        _dlt_load_id,
        _dlt_id,
        dbt_updated_at,
        dbt_valid_from,
        dbt_valid_to
    from {{ source("storefront_history", "snap_storefront__products") }}

)

select * from product_snapshot
