{#- mart_monthly_revenue split by sales channel: the same recognised lines of fct_sales, so the
    channels of a month add up to its row there (tests/dbt/assert_monthly_revenue_by_channel_
    sums_to_monthly_revenue.sql). An order belongs to one channel, so orders add up too. -#}
with

sales as (

    select
        sales_order_id,
        channel,
        net_revenue_usd,
        sold_date
    from {{ ref("fct_sales") }}
    where is_recognised

),

revenue_per_month_and_channel as (

    select
        {{ month_start_date("sales.sold_date") }} as month_start_date,
        sales.channel,
        count(distinct sales.sales_order_id) as recognised_orders,
        sum(sales.net_revenue_usd) as net_revenue_usd
    from sales
    group by {{ month_start_date("sales.sold_date") }}, sales.channel

),

channels as (

    select distinct revenue_per_month_and_channel.channel
    from revenue_per_month_and_channel

),

months as (

    {#- crossed with every channel that ever sold (below): growth compares with the calendar
        month before, even when the channel sold nothing in it -#}
    {{ calendar_months_spanned("revenue_per_month_and_channel") }}

),

monthly as (

    select
        months.month_start_date,
        channels.channel,
        coalesce(revenue.recognised_orders, 0) as recognised_orders,
        coalesce(revenue.net_revenue_usd, 0) as net_revenue_usd
    from months
    cross join channels
    left join revenue_per_month_and_channel as revenue
        on
            months.month_start_date = revenue.month_start_date
            and channels.channel = revenue.channel

),

with_previous as (

    select
        monthly.*,
        lag(monthly.net_revenue_usd) over (
            partition by monthly.channel
            order by monthly.month_start_date
        ) as previous_month_revenue_usd,
        sum(monthly.net_revenue_usd) over (
            partition by monthly.month_start_date
        ) as month_revenue_usd
    from monthly

),

final as (

    select
        {{ generate_surrogate_key(["with_previous.month_start_date", "with_previous.channel"]) }}
            as monthly_channel_revenue_id,
        {{ date_key("with_previous.month_start_date") }} as month_key,
        with_previous.channel,
        {{ revenue_and_order_value("with_previous") }},
        {{ safe_ratio("with_previous.net_revenue_usd", "with_previous.month_revenue_usd") }}
            as share_of_month_revenue,
        {{ month_over_month_growth("with_previous") }},
        with_previous.month_start_date
    from with_previous

)

select * from final
