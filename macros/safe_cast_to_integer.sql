{#- Text to a big integer, or null when the text (trimmed) is not one to eighteen digits:
    no sign, no decimal point, whatever the engine's own cast would accept (Spark's turns
    '1.5' into 1). Postgres has no try_cast; engines without a project version use
    dbt.safe_cast. -#}
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

{% macro spark__safe_cast_to_integer(column) -%}
    case
        when trim(cast({{ column }} as string)) rlike '^[0-9]{1,18}$'
            then cast(trim(cast({{ column }} as string)) as {{ dbt.type_bigint() }})
    end
{%- endmacro %}
