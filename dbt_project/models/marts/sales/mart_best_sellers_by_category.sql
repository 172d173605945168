with

sales as (

    select
        product_key,
        quantity,
        net_revenue_usd
    from {{ ref("fct_sales") }}
    where is_recognised

),

product_versions as (

    select
        product_key,
        product_id,
        category
    from {{ ref("dim_products") }}

),

current_products as (

    select
        product_id,
        sku,
        product_title,
        brand
    from {{ ref("dim_products") }}
    where is_current

),

per_category_product as (

    {#- the category valid at the time of each sale (the version the sale points at) -#}
    select
        product_versions.category,
        product_versions.product_id,
        sum(sales.quantity) as units_sold,
        sum(sales.net_revenue_usd) as net_revenue_usd
    from sales
    inner join product_versions
        on sales.product_key = product_versions.product_key
    group by product_versions.category, product_versions.product_id

),

final as (

    select
        {{ generate_surrogate_key([
            "per_category_product.category", "per_category_product.product_id"
        ]) }} as best_seller_id,
        per_category_product.product_id,
        per_category_product.category,
        current_products.sku,
        current_products.product_title,
        current_products.brand,
        {#- nulls placed explicitly, as Postgres places them by default (Spark does the
            opposite) -#}
        cast(row_number() over (
            partition by per_category_product.category
            order by
                per_category_product.units_sold desc nulls first,
                per_category_product.net_revenue_usd desc nulls first,
                per_category_product.product_id asc
        ) as {{ dbt.type_int() }}) as category_rank,
        cast(per_category_product.units_sold as {{ dbt.type_int() }}) as units_sold,
        cast(per_category_product.net_revenue_usd as {{ dbt.type_numeric() }})
            as net_revenue_usd
    from per_category_product
    left join current_products
        on per_category_product.product_id = current_products.product_id

)

select * from final
