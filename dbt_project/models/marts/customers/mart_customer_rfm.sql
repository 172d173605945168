with

customer_orders as (

    select
        customer_id,
        recognised_orders,
        all_orders,
        cancelled_orders,
        refunded_orders,
        distinct_products,
        units_bought,
        lifetime_revenue_usd,
        first_order_at,
        last_order_at
    from {{ ref("int_customer_orders_summarised") }}
    where recognised_orders > 0

),

reference_date as (

    {#- business time: the latest recognised sale, not the wall clock -#}
    select max(sold_date) as reference_date
    from {{ ref("fct_sales") }}
    where is_recognised

),

measured as (

    select
        customer_orders.*,
        {{ dbt.datediff(
            "cast(customer_orders.last_order_at as date)", "reference_date.reference_date", "day"
        ) }} as recency_days,
        {{ dbt.datediff(
            "cast(customer_orders.first_order_at as date)", "reference_date.reference_date", "day"
        ) }} as tenure_days,
        reference_date.reference_date
    from customer_orders
    cross join reference_date

),

scored as (

    {#- rules: doc block `rfm`; 5 is best; nulls placed explicitly, as Postgres places them by
        default (Spark does the opposite) -#}
    select
        measured.*,
        ntile(5)
            over (order by measured.recency_days desc nulls first, measured.customer_id asc)
            as recency_score,
        ntile(5) over (
            order by measured.recognised_orders asc, measured.customer_id asc
        ) as frequency_score,
        ntile(5) over (
            order by measured.lifetime_revenue_usd asc nulls last, measured.customer_id asc
        ) as monetary_score
    from measured

),

final as (

    select
        scored.customer_id,
        {{ dbt.concat([
            dbt.safe_cast("scored.recency_score", dbt.type_string()),
            dbt.safe_cast("scored.frequency_score", dbt.type_string()),
            dbt.safe_cast("scored.monetary_score", dbt.type_string()),
        ]) }} as rfm_cell,
        cast(scored.recency_days as {{ dbt.type_int() }}) as recency_days,
        cast(scored.recognised_orders as {{ dbt.type_int() }}) as frequency_orders,
        cast(scored.lifetime_revenue_usd as {{ dbt.type_numeric() }}) as monetary_usd,
        cast(scored.recency_score as {{ dbt.type_int() }}) as recency_score,
        cast(scored.frequency_score as {{ dbt.type_int() }}) as frequency_score,
        cast(scored.monetary_score as {{ dbt.type_int() }}) as monetary_score,
        cast(scored.tenure_days as {{ dbt.type_int() }}) as tenure_days,
        cast(
            scored.lifetime_revenue_usd / scored.recognised_orders as {{ dbt.type_numeric() }}
        ) as average_order_value_usd,
        cast(scored.units_bought as {{ dbt.type_int() }}) as units_bought,
        cast(scored.distinct_products as {{ dbt.type_int() }}) as distinct_products,
        cast(
            1.0 * scored.cancelled_orders / scored.all_orders as {{ dbt.type_numeric() }}
        ) as cancellation_rate,
        cast(1.0 * scored.refunded_orders / scored.all_orders as {{ dbt.type_numeric() }})
            as refund_rate,
        scored.reference_date,
        scored.first_order_at,
        scored.last_order_at
    from scored

)

select * from final
