{{ config(**incremental_by_key_config(
    "order_item_id",
    ["order_id", "customer_id", "product_id", "loaded_at", "dbt_built_at"],
    unique_index=["order_item_id"],
    pre_hook="{{ delete_order_lines_touched() }}",
)) }}

{#- Incremental rule: doc block `incremental_lines`. -#}
{#- Business rules: `line_net_amount`, `currency_conversion`, `recognised_revenue`,
    `open_orders` (doc blocks in marts/_marts__docs.md). -#}
with

{% if is_incremental() -%}
touched_lines as (

    {{ order_lines_touched() }}

),

{% endif -%}
order_items as (

    select
        order_item_id,
        order_id,
        product_id,
        sku,
        line_number,
        quantity,
        unit_price,
        discount_rate,
        updated_at,
        loaded_at
    from {{ ref("stg_ops__order_items") }}
    where
        is_valid
        and {{ in_incremental_run(
            "order_item_id = any(array(select touched_lines.order_item_id from touched_lines))"
        ) }}

),

orders as (

    select
        order_id,
        customer_id,
        order_status,
        currency_code,
        channel,
        ordered_at,
        updated_at,
        loaded_at
    from {{ ref("stg_ops__orders") }}
    where is_valid

),

{{ exchange_rates_import() }},

joined as (

    select
        order_items.order_item_id,
        order_items.order_id,
        orders.customer_id,
        order_items.product_id,
        order_items.sku,
        orders.order_status,
        orders.channel,
        orders.currency_code,
        order_items.line_number,
        order_items.quantity,
        order_items.unit_price,
        order_items.discount_rate,
        exchange_rates.rate_to_usd,
        orders.ordered_at,
        case
            when order_items.updated_at > orders.updated_at then order_items.updated_at
            else orders.updated_at
        end as source_updated_at,
        case
            when order_items.loaded_at > orders.loaded_at then order_items.loaded_at
            else orders.loaded_at
        end as loaded_at
    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
    {{ join_exchange_rate("orders.currency_code", "orders.ordered_at") }}

),

priced as (

    select
        joined.*,
        joined.quantity * joined.unit_price as gross_amount,
        {{ line_net_amount("joined.quantity", "joined.unit_price", "joined.discount_rate") }}
            as net_amount,
        {{ is_recognised_order_status("joined.order_status") }} as is_recognised,
        {{ is_open_order_status("joined.order_status") }} as is_open
    from joined

),

final as (

    select
        order_item_id,
        order_id,
        customer_id,
        product_id,
        sku,
        order_status,
        channel,
        currency_code,
        line_number,
        quantity,
        cast(unit_price as {{ dbt.type_numeric() }}) as unit_price,
        cast(discount_rate as {{ dbt.type_numeric() }}) as discount_rate,
        cast(gross_amount as {{ dbt.type_numeric() }}) as gross_amount,
        cast(gross_amount - net_amount as {{ dbt.type_numeric() }}) as discount_amount,
        cast(net_amount as {{ dbt.type_numeric() }}) as net_amount,
        cast(rate_to_usd as {{ dbt.type_numeric() }}) as exchange_rate_to_usd,
        cast(gross_amount * rate_to_usd as {{ dbt.type_numeric() }}) as gross_amount_usd,
        cast(
            (gross_amount - net_amount) * rate_to_usd as {{ dbt.type_numeric() }}
        ) as discount_amount_usd,
        cast(net_amount * rate_to_usd as {{ dbt.type_numeric() }}) as net_amount_usd,
        cast(
            case when is_recognised then net_amount * rate_to_usd else 0 end
            as {{ dbt.type_numeric() }}
        ) as net_revenue_usd,
        is_recognised,
        is_open,
        ordered_at,
        source_updated_at,
        loaded_at,
        {{ built_at() }} as dbt_built_at
    from priced

)

select * from final
