{#- The business clock (int_business_clock, dim_date.is_business_today) says which day is
    "today" for the business: exactly one day of dim_date once the facts hold any activity,
    and no order, sale or event in the facts lies after it, unless the build is for an earlier
    business day (SHOPFLOW_BUSINESS_DATE, or the var `business_date`): then business today is
    that day. Returns one row per violation. -#}
{%- set business_date = var("business_date", env_var("SHOPFLOW_BUSINESS_DATE", "")) or none %}
with

business_today as (

    select date_day
    from {{ ref("dim_date") }}
    where is_business_today

),

fact_days as (

    select max(sold_date) as latest_date from {{ ref("fct_sales") }}
    union all
    select max(ordered_date) as latest_date from {{ ref("fct_orders") }}
    union all
    select max(event_date) as latest_date from {{ ref("fct_events") }}

),

latest_activity as (

    select max(fact_days.latest_date) as latest_date
    from fact_days

),

violations as (

    select
        'business today is not exactly one day' as violation,
        count(*) as detail
    from business_today
    having
        count(*)
        <> (select count(latest_activity.latest_date) from latest_activity)

    union all

    select
        'activity after business today' as violation,
        count(*) as detail
    from latest_activity
    cross join business_today
    {% if business_date -%}
    where business_today.date_day
        <> least(latest_activity.latest_date, cast('{{ business_date }}' as date))
    {%- else -%}
    where latest_activity.latest_date > business_today.date_day
    {%- endif %}
    having count(*) > 0

)

select * from violations
