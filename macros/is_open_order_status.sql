{#- Open order rule (doc block `open_orders`): not yet shipped, i.e. a status in
    var('open_order_statuses'). -#}
{% macro is_open_order_status(status_column) -%}
    coalesce({{ status_column }} in (
        {%- for status in var("open_order_statuses") -%}
            '{{ status }}'{% if not loop.last %}, {% endif %}
        {%- endfor -%}
    ), false)
{%- endmacro %}
