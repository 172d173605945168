{#- Snapshot rows renamed and typed like staging, with the point-in-time join window
    (doc block `point_in_time_join`). The history is the dbt snapshot: read in place on
    Postgres, and on engines without snapshots as the lake export carries it (the staging
    projection of it; docs/scale-out.md, "SCD2 on both engines"), so both build the same
    versions after any number of runs. -#}
with

customer_snapshot as (

    select
        {{ customer_raw_columns() }},
        dbt_valid_from,
        dbt_valid_to,
        _dlt_load_id
    from {{ scd2_history("snap_ops__customers", "stg_ops__customer_versions") }}

),

{{ scd2_versions_numbered(
    "customer_snapshot", "customer_id", customer_attributes("customer_snapshot"),
    flag_current_version=true,
) }},

final as (

    select
        {{ generate_surrogate_key(["numbered.customer_id", "numbered.valid_from"]) }}
            as customer_key,
        numbered.customer_id,
        numbered.first_name,
        numbered.last_name,
        numbered.email,
        numbered.phone,
        numbered.country_code,
        numbered.city,
        numbered.address,
        numbered.version_number,
        numbered.valid_to is null as is_current,
        numbered.has_current_version = 0 as is_erased,
        numbered.registered_at,
        numbered.valid_from,
        numbered.valid_to,
        numbered.loaded_at,
        {{ scd2_join_window(
            "numbered.version_number", "numbered.valid_from", "numbered.valid_to"
        ) }}
    from numbered

)

select * from final
