{#- Revenue recognition rule (doc block `recognised_revenue`): an ops order counts as
    revenue when its status is one of var('recognised_order_statuses'). -#}
{% macro is_recognised_order_status(status_column) -%}
    coalesce({{ status_column }} in (
        {%- for status in var("recognised_order_statuses") -%}
            '{{ status }}'{% if not loop.last %}, {% endif %}
        {%- endfor -%}
    ), false)
{%- endmacro %}
