{{ config(indexes=[{"columns": ["month_start_date"], "unique": true}]) }}

with

sales as (

    select
        sales_order_id,
        net_revenue_usd,
        sold_date
    from {{ ref("fct_sales") }}
    where is_recognised

),

calendar as (

    select distinct month_start_date
    from {{ ref("dim_date") }}

),

revenue_per_month as (

    select
        {{ month_start_date("sales.sold_date") }} as month_start_date,
        count(distinct sales.sales_order_id) as recognised_orders,
        sum(sales.net_revenue_usd) as net_revenue_usd
    from sales
    group by {{ month_start_date("sales.sold_date") }}

),

months as (

    {#- every month between the first and the last sale, so that growth compares with the
        calendar month before, even when it sold nothing -#}
    select calendar.month_start_date
    from calendar
    where
        calendar.month_start_date
        >= (select min(revenue_per_month.month_start_date) from revenue_per_month)
        and calendar.month_start_date
        <= (select max(revenue_per_month.month_start_date) from revenue_per_month)

),

monthly as (

    select
        months.month_start_date,
        coalesce(revenue_per_month.recognised_orders, 0) as recognised_orders,
        coalesce(revenue_per_month.net_revenue_usd, 0) as net_revenue_usd
    from months
    left join revenue_per_month
        on months.month_start_date = revenue_per_month.month_start_date

),

with_previous as (

    select
        monthly.*,
        lag(monthly.net_revenue_usd) over (
            order by monthly.month_start_date
        ) as previous_month_revenue_usd
    from monthly

),

final as (

    select
        {{ date_key("with_previous.month_start_date") }} as month_key,
        cast(with_previous.recognised_orders as {{ dbt.type_int() }}) as recognised_orders,
        cast(with_previous.net_revenue_usd as {{ dbt.type_numeric() }}) as net_revenue_usd,
        {{ safe_ratio("with_previous.net_revenue_usd", "with_previous.recognised_orders") }}
            as average_order_value_usd,
        cast(with_previous.previous_month_revenue_usd as {{ dbt.type_numeric() }})
            as previous_month_revenue_usd,
        {{ safe_ratio(
            "with_previous.net_revenue_usd - with_previous.previous_month_revenue_usd",
            "with_previous.previous_month_revenue_usd"
        ) }} as month_over_month_growth_rate,
        with_previous.month_start_date
    from with_previous

)

select * from final
