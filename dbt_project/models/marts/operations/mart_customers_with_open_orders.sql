with

orders as (

    select
        order_id,
        customer_id,
        units,
        net_amount_usd,
        delivery_date,
        ordered_at
    from {{ ref("fct_orders") }}
    where is_open and customer_id is not null

),

customers as (

    select
        customer_id,
        first_name,
        last_name,
        email_masked,
        phone_masked,
        country_code,
        city
    from {{ ref("dim_customers") }}
    where is_current

),

per_customer as (

    {#- rule: doc block `open_orders` -#}
    select
        orders.customer_id,
        count(*) as open_orders,
        sum(orders.units) as open_units,
        sum(orders.net_amount_usd) as open_amount_usd,
        min(orders.delivery_date) as next_delivery_date,
        min(orders.ordered_at) as oldest_open_order_at
    from orders
    group by orders.customer_id

),

final as (

    select
        per_customer.customer_id,
        customers.first_name,
        customers.last_name,
        customers.email_masked,
        customers.phone_masked,
        customers.country_code,
        customers.city,
        cast(row_number() over (
            order by per_customer.open_orders desc, per_customer.customer_id asc
        ) as {{ dbt.type_int() }}) as open_orders_rank,
        cast(per_customer.open_orders as {{ dbt.type_int() }}) as open_orders,
        cast(per_customer.open_units as {{ dbt.type_int() }}) as open_units,
        cast(per_customer.open_amount_usd as {{ dbt.type_numeric() }}) as open_amount_usd,
        per_customer.next_delivery_date,
        per_customer.oldest_open_order_at
    from per_customer
    left join customers
        on per_customer.customer_id = customers.customer_id

)

select * from final
