{{ config(**incremental_by_key_config(
    ["product_id", "as_of_date"],
    ["as_of_date", "dbt_built_at"],
    unique_index=["product_id", "as_of_date"],
)) }}

{#- One row per product per as-of day, every value computed from what happened strictly
    before as_of_at (doc block `feature_as_of_rule`): sales of both channels and the
    clickstream over a dense day spine per product, the price of the catalogue version in
    force. Built like feat_customer_daily. -#}
with

business_clock as (

    select business_today_date
    from {{ ref("int_business_clock") }}

),

sales_lines as (

    select
        product_id,
        quantity,
        net_amount_usd,
        sold_at
    from {{ ref("int_sales_lines_keyed") }}
    where product_id is not null

),

events as (

    select
        sku,
        event_name,
        event_at
    from {{ ref("int_events_keyed") }}
    where sku is not null

),

product_versions as (

    select
        product_id,
        sku,
        currency_code,
        list_price,
        created_at,
        valid_from,
        valid_to
    from {{ ref("int_product_versions_windowed") }}

),

products as (

    select
        product_id,
        cast(min(created_at) as date) as created_date
    from product_versions
    group by product_id

),

product_skus as (

    {#- a product's events are keyed by SKU: every SKU any of its versions carried -#}
    select distinct
        product_id,
        sku
    from product_versions

),

daily_sales as (

    select
        product_id,
        cast(sold_at as date) as activity_date,
        count(*) as sales_line_count,
        sum(quantity) as units,
        sum(net_amount_usd) as revenue_usd,
        max(sold_at) as last_sold_at
    from sales_lines
    group by product_id, cast(sold_at as date)

),

daily_events as (

    select
        product_skus.product_id,
        cast(events.event_at as date) as activity_date,
        count(*) filter (where events.event_name = 'view') as view_count,
        count(*) filter (where events.event_name = 'purchase') as purchase_count,
        max(events.event_at) as last_event_at
    from events
    inner join product_skus
        on events.sku = product_skus.sku
    group by product_skus.product_id, cast(events.event_at as date)

),

history_start as (

    select least(
        (select min(daily_sales.activity_date) from daily_sales),
        (select min(daily_events.activity_date) from daily_events)
    ) as first_activity_date

),

product_days as (

    select
        products.product_id,
        cast(activity_day as date) as activity_date
    from products
    cross join business_clock
    cross join history_start
    cross join lateral generate_series(
        greatest(products.created_date, history_start.first_activity_date),
        business_clock.business_today_date - 1,
        interval '1 day'
    ) as activity_day

),

windowed as (

    select
        product_days.product_id,
        product_days.activity_date + 1 as as_of_date,
        sum(coalesce(daily_sales.sales_line_count, 0)) over last_30_days as sales_last_30_days,
        sum(coalesce(daily_sales.units, 0)) over last_30_days as units_sold_last_30_days,
        sum(coalesce(daily_sales.revenue_usd, 0)) over last_30_days as revenue_last_30_days_usd,
        sum(coalesce(daily_events.view_count, 0)) over last_30_days as views_last_30_days,
        sum(coalesce(daily_events.purchase_count, 0)) over last_30_days as purchases_last_30_days,
        max(daily_sales.last_sold_at) over to_date as last_sold_at,
        max(daily_events.last_event_at) over to_date as last_event_at
    from product_days
    left join daily_sales
        on
            product_days.product_id = daily_sales.product_id
            and product_days.activity_date = daily_sales.activity_date
    left join daily_events
        on
            product_days.product_id = daily_events.product_id
            and product_days.activity_date = daily_events.activity_date
    window
        per_product as (
            partition by product_days.product_id order by product_days.activity_date
        ),
        last_30_days as (per_product rows between 29 preceding and current row),
        to_date as (per_product rows between unbounded preceding and current row)

),

measured as (

    select
        windowed.*,
        cast(windowed.as_of_date as timestamp) as as_of_at
    from windowed

),

price_at_time as (

    {#- the catalogue version in force just before as_of_at; none before the first version the
        snapshot saw (its price then is unknown, not the later one) -#}
    select
        measured.product_id,
        measured.as_of_date,
        product_versions.currency_code,
        product_versions.list_price,
        product_versions.valid_from as product_version_valid_from
    from measured
    inner join product_versions
        on
            measured.product_id = product_versions.product_id
            and {{ is_version_in_force_before("measured.as_of_at", "product_versions") }}

),

final as (

    select
        cast(measured.product_id as bigint) as product_id,
        price_at_time.currency_code,
        cast(measured.sales_last_30_days as integer) as sales_last_30_days,
        cast(measured.units_sold_last_30_days as integer) as units_sold_last_30_days,
        cast(measured.revenue_last_30_days_usd as numeric(28, 6)) as revenue_last_30_days_usd,
        cast(measured.views_last_30_days as integer) as views_last_30_days,
        cast(measured.purchases_last_30_days as integer) as purchases_last_30_days,
        cast(
            {{ safe_ratio("1.0 * measured.purchases_last_30_days", "measured.views_last_30_days") }}
            as numeric(28, 6)
        ) as view_to_purchase_rate_last_30_days,
        cast(price_at_time.list_price as numeric(28, 6)) as list_price,
        measured.as_of_date,
        measured.as_of_at,
        measured.last_sold_at,
        measured.last_event_at,
        price_at_time.product_version_valid_from,
        {{ built_at() }} as dbt_built_at
    from measured
    left join price_at_time
        on
            measured.product_id = price_at_time.product_id
            and measured.as_of_date = price_at_time.as_of_date
    {% if is_incremental() -%}
    where measured.as_of_date >= {{ features_rebuilt_from([
        (ref("int_sales_lines_keyed"), "sold_at"),
        (ref("int_events_keyed"), "event_at"),
        (ref("int_product_versions_windowed"), "valid_from"),
    ]) }}
    {%- endif %}

)

select * from final
