{#- Who were our ten best customers last quarter? Recognised revenue in the calendar quarter
    before business today (dim_date.is_last_quarter: doc block `business_clock`; swap the
    flag for is_this_quarter, is_last_month, is_last_30_days, ...), ties broken by customer id
    as in `customer_ranking`. Marketplace sales and erased customers have no customer. -#}
with

sales as (

    select
        customer_id,
        sales_order_id,
        net_revenue_usd,
        date_key
    from {{ ref("fct_sales") }}
    where is_recognised and customer_id is not null

),

period as (

    select
        date_key,
        date_day
    from {{ ref("dim_date") }}
    where is_last_quarter

),

customers as (

    select
        customer_id,
        first_name,
        last_name,
        country_code
    from {{ ref("dim_customers") }}
    where is_current

),

revenue_per_customer as (

    select
        sales.customer_id,
        count(distinct sales.sales_order_id) as recognised_orders,
        sum(sales.net_revenue_usd) as net_revenue_usd,
        min(period.date_day) as first_order_date,
        max(period.date_day) as last_order_date
    from sales
    inner join period
        on sales.date_key = period.date_key
    group by sales.customer_id

),

ranked as (

    select
        row_number() over (
            order by
                revenue_per_customer.net_revenue_usd desc, revenue_per_customer.customer_id asc
        ) as customer_rank,
        revenue_per_customer.customer_id,
        customers.first_name,
        customers.last_name,
        customers.country_code,
        revenue_per_customer.recognised_orders,
        revenue_per_customer.net_revenue_usd,
        revenue_per_customer.first_order_date,
        revenue_per_customer.last_order_date
    from revenue_per_customer
    left join customers
        on revenue_per_customer.customer_id = customers.customer_id

)

select *
from ranked
where customer_rank <= 10
order by customer_rank
