{#- The bookkeeping columns every ops staging model carries from its raw row: creation and
    update time in UTC, when dlt loaded the row, and dlt's load id. `relation` is the CTE or
    alias holding the raw columns. -#}
{% macro ops_record_columns(relation) -%}
    {{ to_utc_timestamp(relation ~ ".created_at") }} as created_at,
    {{ to_utc_timestamp(relation ~ ".updated_at") }} as updated_at,
    {{ dlt_loaded_at(relation ~ "._dlt_load_id") }} as loaded_at,
    {{ relation }}._dlt_load_id as load_id
{%- endmacro %}
