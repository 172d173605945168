with

source as (

    select
        file_name,
        reason,
        load_id,
        quarantined_at
    from {{ source("files", "quarantined_files") }}

),

renamed as (

    select
        {{ generate_surrogate_key(["source.file_name", "source.load_id"]) }}
            as quarantined_file_id,
        cast(source.load_id as {{ dbt.type_string() }}) as load_id,
        trim(source.file_name) as file_name,
        cast(source.reason as {{ dbt.type_string() }}) as quarantine_reason,
        {{ to_utc_timestamp("source.quarantined_at") }} as quarantined_at,
        {{ dlt_loaded_at("source.load_id") }} as loaded_at
    from source

),

deduplicated as (

    {{ deduplicate_to_latest("renamed", "quarantined_file_id", "quarantined_at desc") }}

),

final as (

    select
        quarantined_file_id,
        load_id,
        file_name,
        quarantine_reason,
        quarantined_at,
        loaded_at
    from deduplicated

)

select * from final
