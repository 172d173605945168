{#- Text to a big integer, or null when the text is not made of digits (Postgres has no
    try_cast; other engines use dbt.safe_cast). -#}
{% macro safe_cast_to_integer(column) -%}
    {{ return(adapter.dispatch("safe_cast_to_integer")(column)) }}
{%- endmacro %}

{% macro default__safe_cast_to_integer(column) -%}
    {{ dbt.safe_cast(column, dbt.type_bigint()) }}
{%- endmacro %}

{% macro postgres__safe_cast_to_integer(column) -%}
    case
        when trim(cast({{ column }} as text)) ~ '^[0-9]{1,18}$'
            then cast(trim(cast({{ column }} as text)) as {{ dbt.type_bigint() }})
    end
{%- endmacro %}
