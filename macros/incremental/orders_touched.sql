{#- The orders int_orders_summarised rolls up again in an incremental run (doc block
    `incremental_lines`): orders whose row, lines, payments or delivery were loaded after
    the model's newest `loaded_at`, through staging's loaded_at indexes. -#}
{% macro orders_touched() -%}
    {%- for model_name in [
        "stg_ops__orders", "stg_ops__order_items", "stg_ops__payments", "stg_ops__deliveries"
    ] %}
    select touched.order_id
    from {{ ref(model_name) }} as touched
    where touched.loaded_at > {{ newest_value("loaded_at", dbt.type_timestamp()) }}
    {%- if not loop.last %}

    union
    {% endif %}
    {%- endfor %}
{%- endmacro %}

{#- Pre-hook of int_orders_summarised: deletes the orders orders_touched() rolls up again, so
    that an order which turned invalid leaves the table (delete_touched). -#}
{% macro delete_orders_touched() -%}
    {{- delete_touched("order_id", orders_touched()) -}}
{%- endmacro %}
