{#- True when a date or timestamp falls outside dim_date's calendar (vars `date_spine_start`
    and `date_spine_end`): staging flags such a row invalid, so one order dated 2999 is set
    aside with its reason instead of failing every fact's foreign key to dim_date. -#}
{% macro is_outside_calendar(column) -%}
    (
        {{ column }} < cast('{{ var("date_spine_start") }}' as date)
        or {{ column }} >= cast('{{ var("date_spine_end") }}' as date) + 1
    )
{%- endmacro %}
