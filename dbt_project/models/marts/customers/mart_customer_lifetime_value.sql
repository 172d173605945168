with

customers as (

    select
        customer_id,
        first_name,
        last_name,
        country_code,
        registered_at
    from {{ ref("dim_customers") }}
    where is_current and customer_id <> -1

),

customer_orders as (

    select
        customer_id,
        recognised_orders,
        lifetime_revenue_usd,
        first_order_at,
        last_order_at
    from {{ ref("int_customer_orders_summarised") }}

),

joined as (

    select
        customers.customer_id,
        customers.first_name,
        customers.last_name,
        customers.country_code,
        coalesce(customer_orders.recognised_orders, 0) as recognised_orders,
        coalesce(customer_orders.lifetime_revenue_usd, 0) as historic_clv_usd,
        customers.registered_at,
        customer_orders.first_order_at,
        customer_orders.last_order_at
    from customers
    left join customer_orders
        on customers.customer_id = customer_orders.customer_id

),

spans as (

    select
        joined.*,
        {{ dbt.datediff("joined.first_order_at", "joined.last_order_at", "day") }}
            as order_span_days
    from joined

),

measured as (

    {#- formula: doc block `customer_lifetime_value` -#}
    select
        spans.*,
        spans.historic_clv_usd / nullif(spans.recognised_orders, 0) as average_order_value_usd,
        case
            when spans.recognised_orders = 0 then 0
            when spans.order_span_days / 365.25 > 1 then spans.order_span_days / 365.25
            else 1
        end as active_years
    from spans

),

final as (

    select
        measured.customer_id,
        measured.first_name,
        measured.last_name,
        measured.country_code,
        measured.recognised_orders,
        cast(measured.historic_clv_usd as {{ dbt.type_numeric() }}) as historic_clv_usd,
        cast(measured.average_order_value_usd as {{ dbt.type_numeric() }})
            as average_order_value_usd,
        cast(measured.active_years as {{ dbt.type_numeric() }}) as active_years,
        cast(
            measured.recognised_orders / nullif(measured.active_years, 0)
            as {{ dbt.type_numeric() }}
        ) as orders_per_active_year,
        cast(
            coalesce(
                measured.average_order_value_usd
                * (measured.recognised_orders / nullif(measured.active_years, 0))
                * {{ var("clv_lifespan_years", 3) }},
                0
            ) as {{ dbt.type_numeric() }}
        ) as predicted_clv_usd,
        measured.registered_at,
        measured.first_order_at,
        measured.last_order_at
    from measured

)

select * from final
