with

source as (

    select
        {{ customer_raw_columns() }},
        created_at,
        updated_at,
        _dlt_load_id
    from {{ source("ops", "customers") }}

),

renamed as (

    select
        {{ customer_attributes("source") }},
        {{ to_utc_timestamp("source.created_at") }} as created_at,
        {{ to_utc_timestamp("source.updated_at") }} as updated_at,
        {{ dlt_loaded_at("source._dlt_load_id") }} as loaded_at
    from source

),

deduplicated as (

    {{ deduplicate_to_latest("renamed", "customer_id", "updated_at desc, loaded_at desc") }}

),

validated as (

    select
        deduplicated.*,
        case
            when deduplicated.email is null or deduplicated.email not like '%_@_%._%'
                then 'email is not an address'
            when {{ dbt.length("coalesce(deduplicated.country_code, '')") }} <> 2
                then 'country_code is not a two-letter code'
            when deduplicated.updated_at is null then 'updated_at is missing'
        end as invalid_reason
    from deduplicated

),

final as (

    select
        customer_id,
        first_name,
        last_name,
        email,
        phone,
        country_code,
        city,
        address,
        invalid_reason,
        {{ validity_flag("invalid_reason") }} as is_valid,
        registered_at,
        created_at,
        updated_at,
        loaded_at
    from validated

)

select * from final
