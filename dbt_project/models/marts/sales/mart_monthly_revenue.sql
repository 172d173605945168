with

sales as (

    select
        sales_order_id,
        net_revenue_usd,
        sold_date
    from {{ ref("fct_sales") }}
    where is_recognised

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

    {{ calendar_months_spanned("revenue_per_month") }}

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
        {{ revenue_and_order_value("with_previous") }},
        {{ month_over_month_growth("with_previous") }},
        with_previous.month_start_date
    from with_previous

)

select * from final
