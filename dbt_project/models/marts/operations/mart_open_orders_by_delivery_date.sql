with

orders as (

    select
        order_id,
        order_status,
        units,
        net_amount_usd,
        delivery_date
    from {{ ref("fct_orders") }}
    where is_open

),

final as (

    {#- rule: doc block `open_orders` -#}
    select
        {{ date_key("orders.delivery_date") }} as delivery_date_key,
        cast(count(*) as {{ dbt.type_int() }}) as open_orders,
        cast(
            sum(case when orders.order_status = 'pending' then 1 else 0 end)
            as {{ dbt.type_int() }}
        ) as pending_orders,
        cast(
            sum(case when orders.order_status = 'paid' then 1 else 0 end) as {{ dbt.type_int() }}
        ) as paid_orders,
        cast(sum(orders.units) as {{ dbt.type_int() }}) as open_units,
        cast(sum(orders.net_amount_usd) as {{ dbt.type_numeric() }}) as open_amount_usd,
        orders.delivery_date
    from orders
    group by orders.delivery_date

)

select * from final
