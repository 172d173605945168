with

customer_orders as (

    select
        customer_id,
        recognised_orders,
        units_bought,
        lifetime_revenue_usd,
        first_order_at,
        last_order_at
    from {{ ref("int_customer_orders_summarised") }}
    where recognised_orders > 0

),

customers as (

    select
        customer_id,
        first_name,
        last_name,
        email_masked,
        country_code
    from {{ ref("dim_customers") }}
    where is_current

),

final as (

    {#- ranking rule: doc block `customer_ranking` -#}
    select
        customer_orders.customer_id,
        customers.first_name,
        customers.last_name,
        customers.email_masked,
        customers.country_code,
        {#- nulls placed explicitly, as Postgres places them by default (Spark does the
            opposite) -#}
        cast(row_number() over (
            order by
                customer_orders.lifetime_revenue_usd desc nulls first,
                customer_orders.customer_id asc
        ) as {{ dbt.type_int() }}) as customer_rank,
        customer_orders.recognised_orders,
        customer_orders.units_bought,
        customer_orders.lifetime_revenue_usd,
        customer_orders.first_order_at,
        customer_orders.last_order_at
    from customer_orders
    left join customers
        on customer_orders.customer_id = customers.customer_id

)

select * from final
