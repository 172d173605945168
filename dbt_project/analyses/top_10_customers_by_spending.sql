{#- Who are our ten best customers? Lifetime recognised revenue, ties broken by customer id
    (doc block `customer_ranking`). -#}
with

top_customers as (

    select
        customer_rank,
        customer_id,
        first_name,
        last_name,
        country_code,
        recognised_orders,
        lifetime_revenue_usd,
        last_order_at
    from {{ ref("mart_top_customers") }}

)

select *
from top_customers
where customer_rank <= 10
order by customer_rank
