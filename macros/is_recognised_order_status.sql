{#- Revenue recognition rule (doc block `recognised_revenue`): an ops order counts as
    revenue when its status is one of var('recognised_order_statuses'). -#}
{% macro is_recognised_order_status(status_column) -%}
    {{ is_in_list(status_column, var("recognised_order_statuses")) }}
{%- endmacro %}
