with

product_versions as (

    select
        product_key,
        product_id,
        sku,
        product_title,
        brand,
        category,
        currency_code,
        list_price,
        stock_quantity,
        version_number,
        is_deleted,
        is_current,
        created_at,
        valid_from,
        valid_to
    from {{ ref("int_product_versions_windowed") }}

),

product_content as (

    select
        product_id,
        tag_list,
        tag_count,
        image_count,
        review_count,
        average_rating
    from {{ ref("int_product_content_summarised") }}

),

versions as (

    select
        product_versions.product_key,
        product_versions.product_id,
        product_versions.sku,
        product_versions.product_title,
        product_versions.brand,
        product_versions.category,
        product_versions.currency_code,
        product_content.tag_list,
        product_versions.list_price,
        product_versions.stock_quantity,
        coalesce(product_content.tag_count, 0) as tag_count,
        coalesce(product_content.image_count, 0) as image_count,
        coalesce(product_content.review_count, 0) as review_count,
        product_content.average_rating,
        product_versions.version_number,
        product_versions.is_deleted,
        product_versions.is_current,
        product_versions.created_at,
        product_versions.valid_from,
        product_versions.valid_to
    from product_versions
    left join product_content
        on product_versions.product_id = product_content.product_id

),

{#- The unknown member's columns between its id and valid_from (unknown_member_union). -#}
{% set unknown_member_columns -%}
        'unknown' as sku,
        'unknown' as product_title,
        'unknown' as brand,
        'unknown' as category,
        cast(null as {{ dbt.type_string() }}) as currency_code,
        cast(null as {{ dbt.type_string() }}) as tag_list,
        cast(null as {{ dbt.type_numeric() }}) as list_price,
        cast(null as {{ dbt.type_int() }}) as stock_quantity,
        0 as tag_count,
        0 as image_count,
        0 as review_count,
        cast(null as {{ dbt.type_numeric() }}) as average_rating,
        1 as version_number,
        false as is_deleted,
        true as is_current,
        cast(null as {{ dbt.type_timestamp() }}) as created_at,
{%- endset %}
{{ unknown_member_union("product_key", "product_id", unknown_member_columns) }}

select
    product_key,
    cast(product_id as {{ dbt.type_bigint() }}) as product_id,
    sku,
    product_title,
    brand,
    category,
    currency_code,
    tag_list,
    cast(list_price as {{ dbt.type_numeric() }}) as list_price,
    cast(stock_quantity as {{ dbt.type_int() }}) as stock_quantity,
    cast(tag_count as {{ dbt.type_int() }}) as tag_count,
    cast(image_count as {{ dbt.type_int() }}) as image_count,
    cast(review_count as {{ dbt.type_int() }}) as review_count,
    cast(average_rating as {{ dbt.type_numeric() }}) as average_rating,
    cast(version_number as {{ dbt.type_int() }}) as version_number,
    is_deleted,
    is_current,
    created_at,
    valid_from,
    valid_to
from final
