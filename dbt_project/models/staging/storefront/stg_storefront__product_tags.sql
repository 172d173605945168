{#- dlt child table: rows point at their product's raw row (`product_row_id`); the product id
    itself is joined on in intermediate (staging does not join). -#}
with

source as (

    select
        value,
        _dlt_root_id,
        _dlt_list_idx,
        _dlt_id
    from {{ source("storefront", "products__tags") }}

),

renamed as (

    select
        cast(source._dlt_id as {{ dbt.type_string() }}) as product_tag_id,
        cast(source._dlt_root_id as {{ dbt.type_string() }}) as product_row_id,
        lower(trim(source.value)) as tag,
        cast(source._dlt_list_idx as {{ dbt.type_int() }}) as tag_position
    from source

),

deduplicated as (

    {{ deduplicate_to_latest("renamed", "product_row_id, tag", "tag_position, product_tag_id") }}

),

validated as (

    select
        deduplicated.*,
        case
            when deduplicated.tag is null or deduplicated.tag = '' then 'tag is empty'
        end as invalid_reason
    from deduplicated

),

final as (

    select
        product_tag_id,
        product_row_id,
        tag,
        invalid_reason,
        tag_position,
        {{ validity_flag("invalid_reason") }} as is_valid
    from validated

)

select * from final
