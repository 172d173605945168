{#- Recognised revenue tells one story at every grain: the sum of mart_daily_sales, the sum of
    mart_monthly_revenue and the grand total of recognised net revenue in fct_sales agree
    (to a cent), and so do the day and month totals of each month. Returns the totals or
    months that disagree. -#}
with

fct_sales as (

    select
        sold_date,
        net_revenue_usd
    from {{ ref("fct_sales") }}
    where is_recognised

),

daily_sales as (

    select
        sold_date,
        net_revenue_usd
    from {{ ref("mart_daily_sales") }}

),

monthly_revenue as (

    select
        month_start_date,
        net_revenue_usd
    from {{ ref("mart_monthly_revenue") }}

),

daily_per_month as (

    select
        {{ month_start_date("daily_sales.sold_date") }} as month_start_date,
        sum(daily_sales.net_revenue_usd) as net_revenue_usd
    from daily_sales
    group by 1

),

months_compared as (

    select
        'month ' || cast(
            coalesce(monthly_revenue.month_start_date, daily_per_month.month_start_date)
            as {{ dbt.type_string() }}
        ) as grain,
        coalesce(daily_per_month.net_revenue_usd, 0) as daily_revenue_usd,
        coalesce(monthly_revenue.net_revenue_usd, 0) as monthly_revenue_usd,
        cast(null as {{ dbt.type_numeric() }}) as fct_sales_revenue_usd
    from monthly_revenue
    full outer join daily_per_month
        on monthly_revenue.month_start_date = daily_per_month.month_start_date

),

grand_total as (

    select
        'grand total' as grain,
        (select coalesce(sum(daily_sales.net_revenue_usd), 0) from daily_sales)
            as daily_revenue_usd,
        (select coalesce(sum(monthly_revenue.net_revenue_usd), 0) from monthly_revenue)
            as monthly_revenue_usd,
        (select coalesce(sum(fct_sales.net_revenue_usd), 0) from fct_sales)
            as fct_sales_revenue_usd

),

compared as (

    select * from months_compared
    union all
    select * from grand_total

)

select *
from compared
where
    abs(daily_revenue_usd - monthly_revenue_usd) > 0.01
    or abs(daily_revenue_usd - coalesce(fct_sales_revenue_usd, daily_revenue_usd)) > 0.01
