{#- How does recognised revenue develop month by month? -#}
with

monthly_revenue as (

    select
        month_start_date,
        recognised_orders,
        net_revenue_usd,
        average_order_value_usd,
        month_over_month_growth_rate
    from {{ ref("mart_monthly_revenue") }}

)

select *
from monthly_revenue
order by month_start_date
