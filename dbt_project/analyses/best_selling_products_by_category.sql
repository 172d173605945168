{#- What are the three best-selling products of each category? Category as it was when the
    product sold (doc block `best_sellers`). -#}
with

best_sellers as (

    select
        category,
        category_rank,
        product_id,
        sku,
        product_title,
        units_sold,
        net_revenue_usd
    from {{ ref("mart_best_sellers_by_category") }}

)

select *
from best_sellers
where category_rank <= 3
order by category, category_rank
