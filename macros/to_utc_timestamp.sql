{#- A timestamp (with time zone, or ISO-8601 text) as a UTC timestamp without time zone,
    whatever the session's time zone. -#}
{% macro to_utc_timestamp(column) -%}
    {{ return(adapter.dispatch("to_utc_timestamp")(column)) }}
{%- endmacro %}

{% macro default__to_utc_timestamp(column) -%}
    {{ dbt.safe_cast(column, dbt.type_timestamp()) }}
{%- endmacro %}

{% macro postgres__to_utc_timestamp(column) -%}
    (cast(cast({{ column }} as timestamptz) at time zone 'UTC' as {{ dbt.type_timestamp() }}))
{%- endmacro %}
