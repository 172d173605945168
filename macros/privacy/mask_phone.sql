{#- A display form of a phone number: `***` and its last four digits (`***6789`). Null
    stays null. Postgres' regexp_replace needs the 'g' flag to replace every match; Spark's
    (the default) always does and takes a position, not flags, as fourth argument. -#}
{% macro mask_phone(column) -%}
    {{ return(adapter.dispatch("mask_phone")(column)) }}
{%- endmacro %}

{% macro default__mask_phone(column) -%}
    '***' || right(regexp_replace({{ column }}, '[^0-9]', ''), 4)
{%- endmacro %}

{% macro postgres__mask_phone(column) -%}
    '***' || right(regexp_replace({{ column }}, '[^0-9]', '', 'g'), 4)
{%- endmacro %}
