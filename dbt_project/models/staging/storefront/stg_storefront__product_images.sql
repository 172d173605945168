{#- dlt child table: rows point at their product's raw row (`product_row_id`); the product id
    itself is joined on in intermediate (staging does not join). -#}
with

source as (

    select
        url,
        width,
        height,
        _dlt_root_id,
        _dlt_list_idx,
        _dlt_id
    from {{ source("storefront", "products__images") }}

),

renamed as (

    select
        cast(source._dlt_id as {{ dbt.type_string() }}) as product_image_id,
        cast(source._dlt_root_id as {{ dbt.type_string() }}) as product_row_id,
        trim(source.url) as image_url,
        cast(source._dlt_list_idx as {{ dbt.type_int() }}) as image_position,
        cast(source.width as {{ dbt.type_int() }}) as width_pixels,
        cast(source.height as {{ dbt.type_int() }}) as height_pixels
    from source

),

deduplicated as (

    {{ deduplicate_to_latest("renamed", "product_image_id", "image_position") }}

),

validated as (

    select
        deduplicated.*,
        case
            when deduplicated.image_url is null then 'url is missing'
            when
                coalesce(deduplicated.width_pixels, 0) <= 0
                or coalesce(deduplicated.height_pixels, 0) <= 0
                then 'size is not positive'
        end as invalid_reason
    from deduplicated

),

final as (

    select
        product_image_id,
        product_row_id,
        image_url,
        invalid_reason,
        image_position,
        width_pixels,
        height_pixels,
        {{ validity_flag("invalid_reason") }} as is_valid
    from validated

)

select * from final
