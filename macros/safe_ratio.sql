{#- numerator / denominator as numeric, null when the denominator is 0 or null: averages,
    shares and growth rates of the marts. -#}
{% macro safe_ratio(numerator, denominator) -%}
    cast(({{ numerator }}) / nullif({{ denominator }}, 0) as {{ dbt.type_numeric() }})
{%- endmacro %}
