{#- The order lines int_order_items_priced prices again in an incremental run (doc block
    `incremental_lines`): lines loaded after the model's newest `loaded_at`, and every line
    of an order loaded after it (its status, currency or date may have changed). Both through
    staging's indexes on loaded_at and order_id. -#}
{% macro order_lines_touched() -%}
    select touched_line.order_item_id
    from {{ ref("stg_ops__order_items") }} as touched_line
    where touched_line.loaded_at > {{ newest_value("loaded_at", dbt.type_timestamp()) }}

    union

    select order_line.order_item_id
    from {{ ref("stg_ops__order_items") }} as order_line
    where order_line.order_id = any(array(
        select touched_order.order_id
        from {{ ref("stg_ops__orders") }} as touched_order
        where touched_order.loaded_at > {{ newest_value("loaded_at", dbt.type_timestamp()) }}
    ))
{%- endmacro %}

{#- Pre-hook of int_order_items_priced: deletes the lines order_lines_touched() prices
    again (delete_touched), so that a line whose order or itself turned invalid does not
    stay behind. -#}
{% macro delete_order_lines_touched() -%}
    {{- delete_touched("order_item_id", order_lines_touched()) -}}
{%- endmacro %}
