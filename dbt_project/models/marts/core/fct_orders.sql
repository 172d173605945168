{{ config(**incremental_by_key_config(
    "order_id",
    ["date_key", "customer_key", "loaded_at", "dbt_built_at"],
)) }}

{#- Incremental rule: doc block `incremental_facts`; the versions are read only by
    incremental runs, hence the hint. -#}
-- depends_on: {{ ref("int_customer_versions_windowed") }}

with

orders as (

    select
        order_id,
        customer_id,
        order_status,
        payment_method,
        currency_code,
        channel,
        carrier,
        delivery_status,
        line_count,
        units,
        gross_amount,
        discount_amount,
        net_amount,
        net_amount_usd,
        net_revenue_usd,
        payment_count,
        captured_amount,
        is_recognised,
        is_open,
        is_customer_erased,
        delivery_date,
        ordered_at,
        shipped_at,
        delivered_at,
        updated_at,
        loaded_at
    from {{ ref("int_orders_summarised") }}

),

customer_versions as (

    select
        customer_key,
        customer_id,
        country_code,
        window_start_at,
        window_end_at
    from {{ ref("int_customer_versions_windowed") }}

),

payment_methods as (

    select
        payment_method,
        payment_type
    from {{ ref("payment_methods") }}

),

{% if is_incremental() -%}
refreshed as (

    {{ facts_to_refresh(ref("int_orders_summarised"), ["order_id"], "ordered_at", [
        {"versions": ref("int_customer_versions_windowed"), "column": "customer_id",
            "key": "customer_key", "known_when": "customer_id is not null"},
    ]) }}

),

{% endif -%}
final as (

    select
        orders.order_id,
        coalesce(customer_versions.customer_key, {{ unknown_member_key() }}) as customer_key,
        {{ date_key("orders.ordered_at") }} as date_key,
        orders.customer_id,
        {{ dbt.concat(["'ops-'", dbt.safe_cast("orders.order_id", dbt.type_string())]) }}
            as sales_order_id,
        orders.order_status,
        orders.payment_method,
        payment_methods.payment_type,
        orders.channel,
        orders.currency_code,
        coalesce(customer_versions.country_code, 'unknown') as customer_country_code,
        orders.carrier,
        orders.delivery_status,
        orders.line_count,
        orders.units,
        cast(orders.gross_amount as {{ dbt.type_numeric() }}) as gross_amount,
        cast(orders.discount_amount as {{ dbt.type_numeric() }}) as discount_amount,
        cast(orders.net_amount as {{ dbt.type_numeric() }}) as net_amount,
        cast(orders.net_amount_usd as {{ dbt.type_numeric() }}) as net_amount_usd,
        cast(orders.net_revenue_usd as {{ dbt.type_numeric() }}) as net_revenue_usd,
        orders.payment_count,
        cast(orders.captured_amount as {{ dbt.type_numeric() }}) as captured_amount,
        orders.is_recognised,
        orders.is_open,
        orders.is_customer_erased,
        orders.delivery_date,
        cast(orders.ordered_at as date) as ordered_date,
        orders.ordered_at,
        orders.shipped_at,
        orders.delivered_at,
        orders.updated_at,
        orders.loaded_at,
        {{ built_at() }} as dbt_built_at
    from orders
    left join customer_versions
        on
            orders.customer_id = customer_versions.customer_id
            and {{ is_version_valid_at("orders.ordered_at", "customer_versions") }}
    left join payment_methods
        on orders.payment_method = payment_methods.payment_method
    {% if is_incremental() -%}
    where orders.order_id = any(array(select refreshed.order_id from refreshed))
    {%- endif %}

)

select * from final
