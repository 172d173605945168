{#- Snapshot rows renamed and typed like staging, with the point-in-time join window
    (doc block `point_in_time_join`). -#}
with

product_snapshot as (

    select
        id,
        sku,
        title,
        brand,
        category,
        price,
        currency,
        stock,
        is_deleted,
        created_at,
        dbt_valid_from,
        dbt_valid_to
    from {{ ref("snap_storefront__products") }}

),

renamed as (

    select
        cast(product_snapshot.id as {{ dbt.type_bigint() }}) as product_id,
        upper(trim(product_snapshot.sku)) as sku,
        trim(product_snapshot.title) as product_title,
        trim(product_snapshot.brand) as brand,
        trim(product_snapshot.category) as category,
        upper(trim(product_snapshot.currency)) as currency_code,
        cast(product_snapshot.price as {{ dbt.type_numeric() }}) as list_price,
        cast(product_snapshot.stock as {{ dbt.type_int() }}) as stock_quantity,
        coalesce(
            cast(product_snapshot.is_deleted as {{ dbt.type_boolean() }}), false
        ) as is_deleted,
        {{ to_utc_timestamp("product_snapshot.created_at") }} as created_at,
        {{ to_utc_timestamp("product_snapshot.dbt_valid_from") }} as valid_from,
        {{ to_utc_timestamp("product_snapshot.dbt_valid_to") }} as valid_to
    from product_snapshot

),

numbered as (

    select
        renamed.*,
        row_number() over (
            partition by renamed.product_id order by renamed.valid_from
        ) as version_number
    from renamed

),

final as (

    select
        {{ generate_surrogate_key(["numbered.product_id", "numbered.valid_from"]) }}
            as product_key,
        numbered.product_id,
        numbered.sku,
        numbered.product_title,
        numbered.brand,
        numbered.category,
        numbered.currency_code,
        numbered.list_price,
        numbered.stock_quantity,
        numbered.version_number,
        numbered.is_deleted,
        numbered.valid_to is null as is_current,
        numbered.created_at,
        numbered.valid_from,
        numbered.valid_to,
        {{ scd2_join_window(
            "numbered.version_number", "numbered.valid_from", "numbered.valid_to"
        ) }}
    from numbered

)

select * from final
