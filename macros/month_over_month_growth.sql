{#- Two columns of the monthly revenue marts: the month before's net revenue
    (`previous_month_revenue_usd`, from a `lag()` over the months) and the growth on it. -#}
{% macro month_over_month_growth(relation) -%}
    cast({{ relation }}.previous_month_revenue_usd as {{ dbt.type_numeric() }})
        as previous_month_revenue_usd,
    {{ safe_ratio(
        relation ~ ".net_revenue_usd - " ~ relation ~ ".previous_month_revenue_usd",
        relation ~ ".previous_month_revenue_usd"
    ) }} as month_over_month_growth_rate
{%- endmacro %}
