{#- The leakage rule of the feature tables (doc block `feature_as_of_rule`): no row reads an
    order, sale, event or version at or after its as_of_at. Two proofs: the provenance columns
    (the newest input each row read) lie before as_of_at on every row, and on the first of each
    month the trailing counts (customers and products) equal a recount straight from the
    intermediate facts, windowed on as_of_at (an off-by-one day in the feature windows shows up
    here). -#}
with

customer_rows as (

    select
        customer_id,
        as_of_at,
        orders_last_30_days,
        orders_last_365_days,
        events_last_7_days,
        last_order_at,
        last_event_at,
        customer_version_valid_from
    from {{ ref("feat_customer_daily") }}

),

product_rows as (

    select
        product_id,
        as_of_at,
        sales_last_30_days,
        views_last_30_days,
        last_sold_at,
        last_event_at,
        product_version_valid_from
    from {{ ref("feat_product_daily") }}

),

orders as (

    select
        customer_id,
        ordered_at
    from {{ ref("int_orders_summarised") }}

),

events as (

    select
        customer_id,
        sku,
        event_name,
        event_at
    from {{ ref("int_events_keyed") }}

),

sales_lines as (

    select
        product_id,
        sold_at
    from {{ ref("int_sales_lines_keyed") }}

),

product_skus as (

    select distinct
        product_id,
        sku
    from {{ ref("int_product_versions_windowed") }}

),

late_provenance as (

    select
        'feat_customer_daily' as feature_table,
        customer_id as entity_id,
        as_of_at,
        'provenance after as_of_at' as problem
    from customer_rows
    where
        last_order_at >= as_of_at
        or last_event_at >= as_of_at
        or customer_version_valid_from >= as_of_at
    union all
    select
        'feat_product_daily' as feature_table,
        product_id as entity_id,
        as_of_at,
        'provenance after as_of_at' as problem
    from product_rows
    where
        last_sold_at >= as_of_at
        or last_event_at >= as_of_at
        or product_version_valid_from >= as_of_at

),

monthly_rows as (

    select *
    from customer_rows
    where extract(day from as_of_at) = 1

),

order_recount as (

    -- set-based (a join per entity, then counts), not a subquery per row: a correlated
    -- count scans every order or event once per monthly row, quadratic at volume
    select
        monthly_rows.customer_id,
        monthly_rows.as_of_at,
        count(orders.ordered_at) filter (
            where orders.ordered_at >= monthly_rows.as_of_at - interval '30 days'
        ) as orders_last_30_days,
        count(orders.ordered_at) as orders_last_365_days
    from monthly_rows
    left join orders
        on
            monthly_rows.customer_id = orders.customer_id
            and orders.ordered_at >= monthly_rows.as_of_at - interval '365 days'
            and monthly_rows.as_of_at > orders.ordered_at
    group by monthly_rows.customer_id, monthly_rows.as_of_at

),

event_recount as (

    select
        monthly_rows.customer_id,
        monthly_rows.as_of_at,
        count(events.event_at) as events_last_7_days
    from monthly_rows
    left join events
        on
            monthly_rows.customer_id = events.customer_id
            and events.event_at >= monthly_rows.as_of_at - interval '7 days'
            and monthly_rows.as_of_at > events.event_at
    group by monthly_rows.customer_id, monthly_rows.as_of_at

),

recounted as (

    select
        order_recount.customer_id,
        order_recount.as_of_at,
        order_recount.orders_last_30_days,
        order_recount.orders_last_365_days,
        event_recount.events_last_7_days
    from order_recount
    inner join event_recount
        on
            order_recount.customer_id = event_recount.customer_id
            and order_recount.as_of_at = event_recount.as_of_at

),

miscounted as (

    select
        'feat_customer_daily' as feature_table,
        monthly_rows.customer_id as entity_id,
        monthly_rows.as_of_at,
        'trailing counts differ from a recount' as problem
    from monthly_rows
    inner join recounted
        on
            monthly_rows.customer_id = recounted.customer_id
            and monthly_rows.as_of_at = recounted.as_of_at
    where
        monthly_rows.orders_last_30_days != recounted.orders_last_30_days
        or monthly_rows.orders_last_365_days != recounted.orders_last_365_days
        or monthly_rows.events_last_7_days != recounted.events_last_7_days

),

monthly_product_rows as (

    select *
    from product_rows
    where extract(day from as_of_at) = 1

),

sales_recount as (

    select
        monthly_product_rows.product_id,
        monthly_product_rows.as_of_at,
        count(sales_lines.sold_at) as sales_last_30_days
    from monthly_product_rows
    left join sales_lines
        on
            monthly_product_rows.product_id = sales_lines.product_id
            and sales_lines.sold_at >= monthly_product_rows.as_of_at - interval '30 days'
            and monthly_product_rows.as_of_at > sales_lines.sold_at
    group by monthly_product_rows.product_id, monthly_product_rows.as_of_at

),

product_views as (

    select
        product_skus.product_id,
        events.event_at
    from events
    inner join product_skus
        on events.sku = product_skus.sku
    where events.event_name = 'view'

),

view_recount as (

    select
        monthly_product_rows.product_id,
        monthly_product_rows.as_of_at,
        count(product_views.event_at) as views_last_30_days
    from monthly_product_rows
    left join product_views
        on
            monthly_product_rows.product_id = product_views.product_id
            and product_views.event_at >= monthly_product_rows.as_of_at - interval '30 days'
            and monthly_product_rows.as_of_at > product_views.event_at
    group by monthly_product_rows.product_id, monthly_product_rows.as_of_at

),

product_recounted as (

    select
        sales_recount.product_id,
        sales_recount.as_of_at,
        sales_recount.sales_last_30_days,
        view_recount.views_last_30_days
    from sales_recount
    inner join view_recount
        on
            sales_recount.product_id = view_recount.product_id
            and sales_recount.as_of_at = view_recount.as_of_at

),

product_miscounted as (

    select
        'feat_product_daily' as feature_table,
        monthly_product_rows.product_id as entity_id,
        monthly_product_rows.as_of_at,
        'trailing counts differ from a recount' as problem
    from monthly_product_rows
    inner join product_recounted
        on
            monthly_product_rows.product_id = product_recounted.product_id
            and monthly_product_rows.as_of_at = product_recounted.as_of_at
    where
        monthly_product_rows.sales_last_30_days != product_recounted.sales_last_30_days
        or monthly_product_rows.views_last_30_days != product_recounted.views_last_30_days

),

final as (

    select * from late_provenance
    union all
    select * from miscounted
    union all
    select * from product_miscounted

)

select * from final
