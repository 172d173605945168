{#- The moment a dlt load ran, from its `_dlt_load_id` (unix seconds as text, e.g.
    '1764361234.123456'), as a UTC timestamp to the microsecond. Wall-clock load time, not
    business time. -#}
{% macro dlt_loaded_at(load_id_column="_dlt_load_id") -%}
    {{ return(adapter.dispatch("dlt_loaded_at")(load_id_column)) }}
{%- endmacro %}

{% macro default__dlt_loaded_at(load_id_column) -%}
    {{ dbt.dateadd(
        "second",
        dbt.safe_cast(load_id_column, dbt.type_numeric()),
        dbt.cast("'1970-01-01 00:00:00'", dbt.type_timestamp())
    ) }}
{%- endmacro %}

{#- dbt-spark's dateadd counts whole seconds (unix_timestamp), which would drop the load's
    fraction: count microseconds instead, rounded as Postgres rounds an interval. -#}
{% macro spark__dlt_loaded_at(load_id_column) -%}
    timestamp_micros(cast(round(cast({{ load_id_column }} as decimal(30, 9)) * 1000000, 0) as bigint))
{%- endmacro %}
