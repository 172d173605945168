{#- Open order rule (doc block `open_orders`): not yet shipped, i.e. a status in
    var('open_order_statuses'). -#}
{% macro is_open_order_status(status_column) -%}
    {{ is_in_list(status_column, var("open_order_statuses")) }}
{%- endmacro %}
