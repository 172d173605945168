{#- Every purchase event in fct_events points at an order in fct_orders. Clickstream can run
    ahead of the order system (the order lands in the next load) and the order may have been
    flagged invalid, so a few orphans are known noise: the failure count is the orphan share
    in percent (rounded up), warned from the first orphan and an error above 2% of purchase
    events (docs/quality.md). Returns the orphan purchase events. Row-level per event, so it
    checks the purchase events the last run wrote (fct_events' latest batch, doc block
    `dbt_built_at`; every event after a full build), and the share is of those. -#}
{{ config(
    severity="error",
    fail_calc="coalesce(ceil(100.0 * count(*) / max(purchase_events)), 0)",
    warn_if=">0",
    error_if=">2",
) }}

with

purchase_events as (

    select
        event_id,
        order_id,
        event_at
    from {{ ref("fct_events") }}
    where
        event_name = 'purchase'
        and dbt_built_at = (select max(newest.dbt_built_at) from {{ ref("fct_events") }} as newest)

),

orders as (

    select order_id
    from {{ ref("fct_orders") }}

),

purchase_event_count as (

    select count(*) as purchase_events
    from purchase_events

)

select
    purchase_events.event_id,
    purchase_events.order_id,
    purchase_events.event_at,
    purchase_event_count.purchase_events
from purchase_events
cross join purchase_event_count
left join orders
    on purchase_events.order_id = orders.order_id
where orders.order_id is null
