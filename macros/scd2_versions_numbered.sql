{#- Two CTEs, `renamed` and `numbered`, shared by the versions models
    (int_<entity>_versions_windowed): the history rows in `history_cte` with their cleaned
    attributes (`attributes`, the rendered customer_attributes or product_attributes), their
    validity (columns `valid_from_column` and `valid_to_column` of the history: a snapshot's
    dbt_valid_*, or the versions built from a change log) in UTC and load time, then numbered
    per key in validity order. With `flag_current_version`, `has_current_version` is 1 on
    every version of a key that still has a current one (0: the key was erased from its
    source). -#}
{% macro scd2_versions_numbered(
    history_cte,
    key_column,
    attributes,
    flag_current_version=false,
    valid_from_column="dbt_valid_from",
    valid_to_column="dbt_valid_to"
) -%}
renamed as (

    select
        {{ attributes }},
        {{ to_utc_timestamp(history_cte ~ "." ~ valid_from_column) }} as valid_from,
        {{ to_utc_timestamp(history_cte ~ "." ~ valid_to_column) }} as valid_to,
        {{ dlt_loaded_at(history_cte ~ "._dlt_load_id") }} as loaded_at
    from {{ history_cte }}

),

numbered as (

    select
        renamed.*,
        row_number() over (
            partition by renamed.{{ key_column }} order by renamed.valid_from
        ) as version_number
        {%- if flag_current_version %},
        max(case when renamed.valid_to is null then 1 else 0 end) over (
            partition by renamed.{{ key_column }}
        ) as has_current_version
        {%- endif %}
    from renamed

)
{%- endmacro %}
