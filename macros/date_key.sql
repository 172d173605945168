{#- A date (or timestamp) as the integer YYYYMMDD key of dim_date. -#}
{% macro date_key(column) -%}
    cast(
        extract(year from {{ column }}) * 10000
        + extract(month from {{ column }}) * 100
        + extract(day from {{ column }})
        as {{ dbt.type_int() }}
    )
{%- endmacro %}
