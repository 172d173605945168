{#- Which countries place the most valuable orders? The customer's country at order time
    (doc block `average_order_value`). -#}
with

aov_by_country as (

    select
        country_code,
        country_name,
        region,
        recognised_orders,
        net_revenue_usd,
        average_order_value_usd
    from {{ ref("mart_aov_by_country") }}

)

select *
from aov_by_country
order by average_order_value_usd desc nulls last
