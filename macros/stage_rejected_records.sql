{#- The staging select shared by every source's `rejected_records` table (same shape in each
    raw schema): typed, renamed, keyed by a hash of the record, exact repeats collapsed. -#}
{% macro stage_rejected_records(relation) -%}
with

source as (

    select
        resource,
        reason,
        raw_payload,
        load_id,
        rejected_at
    from {{ relation }}

),

renamed as (

    select
        {{ generate_surrogate_key([
            "source.resource",
            "source.reason",
            "source.raw_payload",
            "source.load_id",
            timestamptz_text("source.rejected_at"),
        ]) }} as rejected_record_id,
        cast(source.load_id as {{ dbt.type_string() }}) as load_id,
        cast(source.resource as {{ dbt.type_string() }}) as resource_name,
        cast(source.reason as {{ dbt.type_string() }}) as rejection_reason,
        cast(source.raw_payload as {{ dbt.type_string() }}) as raw_payload,
        {{ to_utc_timestamp("source.rejected_at") }} as rejected_at,
        {{ dlt_loaded_at("source.load_id") }} as loaded_at
    from source

),

final as (

    select distinct
        rejected_record_id,
        load_id,
        resource_name,
        rejection_reason,
        raw_payload,
        rejected_at,
        loaded_at
    from renamed

)

select * from final
{%- endmacro %}
