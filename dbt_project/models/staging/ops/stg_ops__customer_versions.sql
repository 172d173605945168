{{ config(enabled=target.type != "postgres") }}

{#- SCD2 on Spark (docs/scale-out.md, "SCD2 on both engines"): the customer versions the raw
    layer holds, as a change log shaped like snap_ops__customers (the raw columns plus
    dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to), for engines without dbt
    snapshots. A version per customer and `updated_at` (its newest load), valid from that
    `updated_at` until the next version's. Postgres reads the snapshot itself. -#}
with

source as (

    select
        customer_id,
        first_name,
        last_name,
        email,
        phone,
        country_code,
        city,
        address,
        registered_at,
        created_at,
        updated_at,
        _dlt_load_id
    from {{ source("ops", "customers") }}

),

versions as (

    {{ deduplicate_to_latest("source", "customer_id, updated_at", "_dlt_load_id desc") }}

),

final as (

    select
        versions.customer_id,
        versions.first_name,
        versions.last_name,
        versions.email,
        versions.phone,
        versions.country_code,
        versions.city,
        versions.address,
        versions.registered_at,
        versions.created_at,
        versions.updated_at,
        versions._dlt_load_id,
        {{ change_log_validity("versions", "customer_id") }}
    from versions

)

select * from final
