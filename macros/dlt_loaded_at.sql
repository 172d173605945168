{#- The moment a dlt load ran, from its `_dlt_load_id` (unix seconds as text, e.g.
    '1764361234.123456'), as a UTC timestamp. Wall-clock load time, not business time. -#}
{% macro dlt_loaded_at(load_id_column="_dlt_load_id") -%}
    {{ dbt.dateadd(
        "second",
        dbt.safe_cast(load_id_column, dbt.type_numeric()),
        dbt.cast("'1970-01-01 00:00:00'", dbt.type_timestamp())
    ) }}
{%- endmacro %}
