with

spend as (

    select
        channel,
        spend_usd,
        impressions,
        clicks,
        spend_date
    from {{ ref("int_marketing_spend_converted") }}

),

sales as (

    select
        sales_order_id,
        channel,
        net_revenue_usd,
        sold_date
    from {{ ref("fct_sales") }}
    where is_recognised

),

spend_per_day as (

    select
        spend.spend_date as activity_date,
        spend.channel,
        count(*) as campaigns,
        sum(spend.spend_usd) as spend_usd,
        sum(spend.impressions) as impressions,
        sum(spend.clicks) as clicks
    from spend
    group by spend.spend_date, spend.channel

),

revenue_per_day as (

    select
        sales.sold_date as activity_date,
        sales.channel,
        count(distinct sales.sales_order_id) as recognised_orders,
        sum(sales.net_revenue_usd) as net_revenue_usd
    from sales
    group by sales.sold_date, sales.channel

),

joined as (

    select
        coalesce(spend_per_day.activity_date, revenue_per_day.activity_date) as activity_date,
        coalesce(spend_per_day.channel, revenue_per_day.channel) as channel,
        coalesce(spend_per_day.campaigns, 0) as campaigns,
        coalesce(spend_per_day.spend_usd, 0) as spend_usd,
        coalesce(spend_per_day.impressions, 0) as impressions,
        coalesce(spend_per_day.clicks, 0) as clicks,
        coalesce(revenue_per_day.recognised_orders, 0) as recognised_orders,
        coalesce(revenue_per_day.net_revenue_usd, 0) as net_revenue_usd
    from spend_per_day
    full outer join revenue_per_day
        on
            spend_per_day.activity_date = revenue_per_day.activity_date
            and spend_per_day.channel = revenue_per_day.channel

),

final as (

    {#- rule: doc block `marketing_roas` -#}
    select
        {{ generate_surrogate_key(["joined.activity_date", "joined.channel"]) }}
            as channel_day_id,
        {{ date_key("joined.activity_date") }} as date_key,
        joined.channel,
        cast(joined.campaigns as {{ dbt.type_int() }}) as campaigns,
        cast(joined.impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(joined.clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(joined.recognised_orders as {{ dbt.type_int() }}) as recognised_orders,
        cast(joined.spend_usd as {{ dbt.type_numeric() }}) as spend_usd,
        cast(joined.net_revenue_usd as {{ dbt.type_numeric() }}) as net_revenue_usd,
        cast(joined.net_revenue_usd / nullif(joined.spend_usd, 0) as {{ dbt.type_numeric() }})
            as return_on_ad_spend,
        joined.activity_date
    from joined

)

select * from final
