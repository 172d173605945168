{#- "Monthly revenue by channel" and "monthly revenue" tell one story: per month, the channels
    of mart_monthly_revenue_by_channel add up to mart_monthly_revenue's orders (exactly: an
    order has one channel) and revenue (to a cent), and both cover the same months. Returns
    the months that disagree. -#}
with

by_channel as (

    select
        month_start_date,
        recognised_orders,
        net_revenue_usd
    from {{ ref("mart_monthly_revenue_by_channel") }}

),

monthly_revenue as (

    select
        month_start_date,
        recognised_orders,
        net_revenue_usd
    from {{ ref("mart_monthly_revenue") }}

),

channels_per_month as (

    select
        by_channel.month_start_date,
        sum(by_channel.recognised_orders) as recognised_orders,
        sum(by_channel.net_revenue_usd) as net_revenue_usd
    from by_channel
    group by by_channel.month_start_date

),

compared as (

    select
        coalesce(monthly_revenue.month_start_date, channels_per_month.month_start_date)
            as month_start_date,
        monthly_revenue.recognised_orders as monthly_orders,
        channels_per_month.recognised_orders as channel_orders,
        monthly_revenue.net_revenue_usd as monthly_revenue_usd,
        channels_per_month.net_revenue_usd as channel_revenue_usd
    from monthly_revenue
    full outer join channels_per_month
        on monthly_revenue.month_start_date = channels_per_month.month_start_date

)

select *
from compared
where
    monthly_orders is null
    or channel_orders is null
    or monthly_orders <> channel_orders
    or abs(monthly_revenue_usd - channel_revenue_usd) > 0.01
