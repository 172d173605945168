{#- dlt child table: rows point at their product's raw row (`product_row_id`); the product id
    itself is joined on in intermediate (staging does not join). -#}
with

source as (

    select
        id,
        rating,
        comment,
        reviewer_name,
        reviewer_email,
        date,
        _dlt_root_id,
        _dlt_id
    from {{ source("storefront", "products__reviews") }}

),

renamed as (

    select
        cast(source.id as {{ dbt.type_bigint() }}) as review_id,
        cast(source._dlt_root_id as {{ dbt.type_string() }}) as product_row_id,
        cast(source._dlt_id as {{ dbt.type_string() }}) as review_row_id,
        trim(source.comment) as review_comment,
        trim(source.reviewer_name) as reviewer_name,
        lower(trim(source.reviewer_email)) as reviewer_email,
        cast(source.rating as {{ dbt.type_int() }}) as rating,
        {{ to_utc_timestamp("source.date") }} as reviewed_at
    from source

),

deduplicated as (

    {{ deduplicate_to_latest("renamed", "review_id", "reviewed_at desc, review_row_id") }}

),

validated as (

    select
        deduplicated.*,
        case
            when deduplicated.rating is null or deduplicated.rating not between 1 and 5
                then 'rating outside 1-5'
            when deduplicated.reviewer_email not like '%_@_%._%'
                then 'reviewer email is not an address'
            when deduplicated.reviewed_at is null then 'date is missing'
        end as invalid_reason
    from deduplicated

),

final as (

    select
        review_id,
        product_row_id,
        review_comment,
        reviewer_name,
        reviewer_email,
        invalid_reason,
        rating,
        {{ validity_flag("invalid_reason") }} as is_valid,
        reviewed_at
    from validated

)

select * from final
