with

products as (

    select
        product_id,
        product_row_id
    from {{ ref("stg_storefront__products") }}

),

product_tags as (

    select
        product_row_id,
        tag
    from {{ ref("stg_storefront__product_tags") }}
    where is_valid

),

product_images as (

    select
        product_row_id,
        product_image_id
    from {{ ref("stg_storefront__product_images") }}
    where is_valid

),

product_reviews as (

    select
        product_row_id,
        review_id,
        rating
    from {{ ref("stg_storefront__product_reviews") }}
    where is_valid

),

tags_per_product as (

    select
        product_tags.product_row_id,
        {{ sorted_string_agg("product_tags.tag", "', '") }} as tag_list,
        count(*) as tag_count
    from product_tags
    group by product_tags.product_row_id

),

images_per_product as (

    select
        product_images.product_row_id,
        count(*) as image_count
    from product_images
    group by product_images.product_row_id

),

reviews_per_product as (

    select
        product_reviews.product_row_id,
        count(*) as review_count,
        {{ numeric_average("product_reviews.rating") }} as average_rating
    from product_reviews
    group by product_reviews.product_row_id

),

final as (

    select
        products.product_id,
        tags_per_product.tag_list,
        cast(coalesce(tags_per_product.tag_count, 0) as {{ dbt.type_int() }}) as tag_count,
        cast(coalesce(images_per_product.image_count, 0) as {{ dbt.type_int() }}) as image_count,
        cast(
            coalesce(reviews_per_product.review_count, 0) as {{ dbt.type_int() }}
        ) as review_count,
        reviews_per_product.average_rating
    from products
    left join tags_per_product
        on products.product_row_id = tags_per_product.product_row_id
    left join images_per_product
        on products.product_row_id = images_per_product.product_row_id
    left join reviews_per_product
        on products.product_row_id = reviews_per_product.product_row_id

)

select * from final
