{#- SCD2 on Spark (docs/scale-out.md, "SCD2 on both engines"; off on Postgres in
    dbt_project.yml): a plain projection of the history Postgres recorded, the snapshot
    snap_ops__customers as the lake export carries it. Nothing is derived here: the versions,
    their validity and the erasures are Postgres's, so the engines agree after any number of
    runs. Postgres reads the snapshot itself. -#}
with

customer_snapshot as (

    select
        dbt_scd_id,
        {{ customer_raw_columns() }},
        created_at,
        updated_at,
        _dlt_load_id,
        dbt_updated_at,
        dbt_valid_from,
        dbt_valid_to
    from {{ source("ops_history", "snap_ops__customers") }}

)

select * from customer_snapshot
