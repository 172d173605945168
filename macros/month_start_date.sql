{#- The first day of the month of a date or timestamp, as a date. -#}
{% macro month_start_date(column) -%}
    cast({{ dbt.date_trunc("month", column) }} as date)
{%- endmacro %}
