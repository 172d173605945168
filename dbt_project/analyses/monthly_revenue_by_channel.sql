{#- How does recognised revenue develop month by month in each sales channel? -#}
with

revenue_by_channel as (

    select
        month_start_date,
        channel,
        recognised_orders,
        net_revenue_usd,
        share_of_month_revenue,
        month_over_month_growth_rate
    from {{ ref("mart_monthly_revenue_by_channel") }}

)

select *
from revenue_by_channel
order by month_start_date, channel
