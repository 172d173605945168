{#- The customer versions (built from the change log by stg_ops__customer_versions, the
    same SQL on both engines) renamed and typed like staging, with the point-in-time join
    window (doc block `point_in_time_join`). -#}
with

customer_versions as (

    select
        {{ customer_raw_columns() }},
        valid_from,
        valid_to,
        _dlt_load_id
    from {{ ref("stg_ops__customer_versions") }}

),

{{ scd2_versions_numbered(
    "customer_versions", "customer_id", customer_attributes("customer_versions"),
    flag_current_version=true, valid_from_column="valid_from", valid_to_column="valid_to",
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
