{#- Line net amount rule (doc block `line_net_amount`): quantity x unit price x
    (1 - discount), in the order's currency. -#}
{% macro line_net_amount(quantity, unit_price, discount) -%}
    ({{ quantity }} * {{ unit_price }} * (1 - coalesce({{ discount }}, 0)))
{%- endmacro %}
