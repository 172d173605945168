{#- Three columns of the revenue marts: recognised orders, their net revenue in USD and the
    average order value (`safe_ratio`), typed for the marts' contracts. `relation` holds
    `recognised_orders` and `net_revenue_usd`. -#}
{% macro revenue_and_order_value(relation) -%}
    cast({{ relation }}.recognised_orders as {{ dbt.type_int() }}) as recognised_orders,
    cast({{ relation }}.net_revenue_usd as {{ dbt.type_numeric() }}) as net_revenue_usd,
    {{ safe_ratio(relation ~ ".net_revenue_usd", relation ~ ".recognised_orders") }}
        as average_order_value_usd
{%- endmacro %}
