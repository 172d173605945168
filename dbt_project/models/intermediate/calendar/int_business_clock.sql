{#- The business clock: the simulated source systems run on their own calendar (2025 to early
    2026), so `current_date` says nothing about the data. "Today" for the business is the day
    of the latest valid activity in any source system (doc block `business_clock`). Zero rows
    while the warehouse holds no activity. A run for a given business day
    (SHOPFLOW_BUSINESS_DATE in dbt's environment, or the var `business_date`, which wins)
    moves it back to that day, never past the latest activity. -#}
{%- set business_date = var("business_date", env_var("SHOPFLOW_BUSINESS_DATE", "")) or none %}
with

orders as (

    select max(ordered_at) as last_ordered_at
    from {{ ref("stg_ops__orders") }}
    where is_valid

),

marketplace_sales as (

    select max(sold_at) as last_marketplace_sold_at
    from {{ ref("stg_storefront__marketplace_sales") }}
    where is_valid

),

events as (

    select max(event_at) as last_event_at
    from {{ ref("stg_files__events") }}
    where is_valid

),

latest as (

    select
        orders.last_ordered_at,
        marketplace_sales.last_marketplace_sold_at,
        events.last_event_at,
        {#- greatest() ignores nulls on Postgres: a source without rows does not stop the clock -#}
        greatest(
            orders.last_ordered_at,
            marketplace_sales.last_marketplace_sold_at,
            events.last_event_at
        ) as business_now_at
    from orders
    cross join marketplace_sales
    cross join events

),

final as (

    select
        {% if business_date -%}
        least(
            cast(latest.business_now_at as date), cast('{{ business_date }}' as date)
        ) as business_today_date,
        {%- else -%}
        cast(latest.business_now_at as date) as business_today_date,
        {%- endif %}
        latest.business_now_at,
        latest.last_ordered_at,
        latest.last_marketplace_sold_at,
        latest.last_event_at
    from latest
    where latest.business_now_at is not null

)

select * from final
