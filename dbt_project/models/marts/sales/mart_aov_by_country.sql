with

orders as (

    select
        order_id,
        customer_country_code,
        net_revenue_usd
    from {{ ref("fct_orders") }}
    where is_recognised

),

countries as (

    select
        country_code,
        country_name,
        region
    from {{ ref("countries") }}

),

per_country as (

    {#- the customer's country when the order was placed (SCD2 version), not today's -#}
    select
        orders.customer_country_code as country_code,
        count(*) as recognised_orders,
        sum(orders.net_revenue_usd) as net_revenue_usd
    from orders
    group by orders.customer_country_code

),

final as (

    select
        per_country.country_code,
        coalesce(countries.country_name, 'unknown') as country_name,
        coalesce(countries.region, 'unknown') as region,
        cast(per_country.recognised_orders as {{ dbt.type_int() }}) as recognised_orders,
        cast(per_country.net_revenue_usd as {{ dbt.type_numeric() }}) as net_revenue_usd,
        cast(
            per_country.net_revenue_usd / nullif(per_country.recognised_orders, 0)
            as {{ dbt.type_numeric() }}
        ) as average_order_value_usd
    from per_country
    left join countries
        on per_country.country_code = countries.country_code

)

select * from final
