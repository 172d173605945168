{{ config(**incremental_by_key_config(
    ["customer_id", "as_of_date"],
    ["as_of_date", "dbt_built_at"],
    unique_index=["customer_id", "as_of_date"],
    post_hook="{{ delete_erased_customer_features() }}",
)) }}

{#- One row per customer per as-of day, every value computed from what happened strictly
    before as_of_at (doc block `feature_as_of_rule`). The windows run over a dense day spine
    per customer, so `rows between 29 preceding` is 30 days; the whole history is re-read on
    every run (the to-date sums need it) and only the rebuilt days are written. -#}
with

business_clock as (

    select business_today_date
    from {{ ref("int_business_clock") }}

),

orders as (

    select
        customer_id,
        net_amount_usd,
        ordered_at
    from {{ ref("int_orders_summarised") }}
    where customer_id is not null

),

events as (

    select
        customer_id,
        event_name,
        event_at
    from {{ ref("int_events_keyed") }}
    where customer_id is not null

),

customer_versions as (

    select
        customer_id,
        country_code,
        is_erased,
        registered_at,
        valid_from,
        valid_to
    from {{ ref("int_customer_versions_windowed") }}

),

daily_orders as (

    select
        customer_id,
        cast(ordered_at as date) as activity_date,
        count(*) as order_count,
        sum(net_amount_usd) as revenue_usd,
        max(ordered_at) as last_order_at
    from orders
    group by customer_id, cast(ordered_at as date)

),

daily_events as (

    select
        customer_id,
        cast(event_at as date) as activity_date,
        count(*) as event_count,
        count(*) filter (where event_name = 'view') as view_count,
        count(*) filter (where event_name = 'purchase') as purchase_count,
        max(event_at) as last_event_at
    from events
    group by customer_id, cast(event_at as date)

),

history_start as (

    {#- the first day the warehouse holds any activity: rows before it would describe no data -#}
    select least(
        (select min(daily_orders.activity_date) from daily_orders),
        (select min(daily_events.activity_date) from daily_events)
    ) as first_activity_date

),

customers as (

    {#- erased customers stay in the spine: their orders count in everyone's RFM scores, so
        an erasure does not rewrite other customers' past rows; their own rows are dropped
        at the end (and by the post-hook) -#}
    select
        customer_id,
        bool_or(is_erased) as is_erased,
        cast(min(registered_at) as date) as registered_date
    from customer_versions
    group by customer_id

),

customer_days as (

    select
        customers.customer_id,
        customers.is_erased,
        cast(activity_day as date) as activity_date
    from customers
    cross join business_clock
    cross join history_start
    cross join lateral generate_series(
        greatest(customers.registered_date, history_start.first_activity_date),
        business_clock.business_today_date - 1,
        interval '1 day'
    ) as activity_day

),

windowed as (

    select
        customer_days.customer_id,
        customer_days.is_erased,
        customer_days.activity_date + 1 as as_of_date,
        sum(coalesce(daily_orders.order_count, 0)) over last_30_days as orders_last_30_days,
        sum(coalesce(daily_orders.order_count, 0)) over last_90_days as orders_last_90_days,
        sum(coalesce(daily_orders.order_count, 0)) over last_365_days as orders_last_365_days,
        sum(coalesce(daily_orders.order_count, 0)) over to_date as orders_to_date,
        sum(coalesce(daily_orders.revenue_usd, 0)) over last_30_days as revenue_last_30_days_usd,
        sum(coalesce(daily_orders.revenue_usd, 0)) over last_90_days as revenue_last_90_days_usd,
        sum(coalesce(daily_orders.revenue_usd, 0)) over last_365_days
            as revenue_last_365_days_usd,
        sum(coalesce(daily_orders.revenue_usd, 0)) over to_date as revenue_to_date_usd,
        sum(coalesce(daily_events.event_count, 0)) over last_7_days as events_last_7_days,
        sum(coalesce(daily_events.event_count, 0)) over last_30_days as events_last_30_days,
        sum(coalesce(daily_events.view_count, 0)) over last_7_days as views_last_7_days,
        sum(coalesce(daily_events.view_count, 0)) over last_30_days as views_last_30_days,
        sum(coalesce(daily_events.purchase_count, 0)) over last_7_days as purchases_last_7_days,
        sum(coalesce(daily_events.purchase_count, 0)) over last_30_days as purchases_last_30_days,
        max(daily_orders.last_order_at) over to_date as last_order_at,
        max(daily_events.last_event_at) over to_date as last_event_at
    from customer_days
    left join daily_orders
        on
            customer_days.customer_id = daily_orders.customer_id
            and customer_days.activity_date = daily_orders.activity_date
    left join daily_events
        on
            customer_days.customer_id = daily_events.customer_id
            and customer_days.activity_date = daily_events.activity_date
    window
        per_customer as (
            partition by customer_days.customer_id order by customer_days.activity_date
        ),
        last_7_days as (per_customer rows between 6 preceding and current row),
        last_30_days as (per_customer rows between 29 preceding and current row),
        last_90_days as (per_customer rows between 89 preceding and current row),
        last_365_days as (per_customer rows between 364 preceding and current row),
        to_date as (per_customer rows between unbounded preceding and current row)

),

measured as (

    select
        windowed.*,
        cast(windowed.as_of_date as timestamp) as as_of_at,
        windowed.as_of_date - cast(windowed.last_order_at as date) as days_since_last_order
    from windowed

),

scored as (

    {#- RFM rules as mart_customer_rfm's (doc block `rfm`), among the customers with an order
        before the as-of time, on the orders placed so far (doc block `feature_as_of_rule`) -#}
    select
        measured.customer_id,
        measured.as_of_date,
        ntile(5) over (
            partition by measured.as_of_date
            order by measured.days_since_last_order desc, measured.customer_id asc
        ) as recency_score,
        ntile(5) over (
            partition by measured.as_of_date
            order by measured.orders_to_date asc, measured.customer_id asc
        ) as frequency_score,
        ntile(5) over (
            partition by measured.as_of_date
            order by measured.revenue_to_date_usd asc, measured.customer_id asc
        ) as monetary_score
    from measured
    where measured.orders_to_date > 0

),

kept as (

    -- an erased customer has no feature rows (their orders still count in the scores above)
    select *
    from measured
    where not is_erased

),

country_at_time as (

    {#- the version in force just before as_of_at: started before it, not ended before it -#}
    select
        measured.customer_id,
        measured.as_of_date,
        customer_versions.country_code,
        customer_versions.valid_from as customer_version_valid_from
    from measured
    inner join customer_versions
        on
            measured.customer_id = customer_versions.customer_id
            and {{ is_version_in_force_before("measured.as_of_at", "customer_versions") }}

),

final as (

    select
        cast(measured.customer_id as bigint) as customer_id,
        country_at_time.country_code,
        cast(measured.orders_last_30_days as integer) as orders_last_30_days,
        cast(measured.orders_last_90_days as integer) as orders_last_90_days,
        cast(measured.orders_last_365_days as integer) as orders_last_365_days,
        cast(measured.orders_to_date as integer) as orders_to_date,
        cast(measured.revenue_last_30_days_usd as numeric(28, 6)) as revenue_last_30_days_usd,
        cast(measured.revenue_last_90_days_usd as numeric(28, 6)) as revenue_last_90_days_usd,
        cast(measured.revenue_last_365_days_usd as numeric(28, 6)) as revenue_last_365_days_usd,
        cast(measured.revenue_to_date_usd as numeric(28, 6)) as revenue_to_date_usd,
        cast(
            {{ safe_ratio("measured.revenue_to_date_usd", "measured.orders_to_date") }}
            as numeric(28, 6)
        ) as average_order_value_usd,
        cast(measured.days_since_last_order as integer) as days_since_last_order,
        cast(scored.recency_score as integer) as recency_score,
        cast(scored.frequency_score as integer) as frequency_score,
        cast(scored.monetary_score as integer) as monetary_score,
        cast(measured.events_last_7_days as integer) as events_last_7_days,
        cast(measured.events_last_30_days as integer) as events_last_30_days,
        cast(measured.views_last_7_days as integer) as views_last_7_days,
        cast(measured.views_last_30_days as integer) as views_last_30_days,
        cast(measured.purchases_last_7_days as integer) as purchases_last_7_days,
        cast(measured.purchases_last_30_days as integer) as purchases_last_30_days,
        cast(
            {{ safe_ratio("1.0 * measured.purchases_last_7_days", "measured.views_last_7_days") }}
            as numeric(28, 6)
        ) as view_to_purchase_rate_last_7_days,
        cast(
            {{ safe_ratio("1.0 * measured.purchases_last_30_days", "measured.views_last_30_days") }}
            as numeric(28, 6)
        ) as view_to_purchase_rate_last_30_days,
        measured.as_of_date,
        measured.as_of_at,
        measured.last_order_at,
        measured.last_event_at,
        country_at_time.customer_version_valid_from,
        {{ built_at() }} as dbt_built_at
    from kept as measured
    left join scored
        on
            measured.customer_id = scored.customer_id
            and measured.as_of_date = scored.as_of_date
    left join country_at_time
        on
            measured.customer_id = country_at_time.customer_id
            and measured.as_of_date = country_at_time.as_of_date
    {% if is_incremental() -%}
    where measured.as_of_date >= {{ features_rebuilt_from([
        (ref("int_orders_summarised"), "ordered_at"),
        (ref("int_events_keyed"), "event_at"),
        (ref("int_customer_versions_windowed"), "valid_from"),
    ]) }}
    {%- endif %}

)

select * from final
