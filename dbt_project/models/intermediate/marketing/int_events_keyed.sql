{#- Valid clickstream events keyed to the customer and product versions valid at the time
    of the event (doc block `point_in_time_join`), unknown members where none is. -#}
with

events as (

    select
        event_id,
        user_id,
        customer_id,
        order_id,
        event_name,
        platform,
        product_name,
        sku,
        source_file,
        event_date,
        event_at,
        loaded_at
    from {{ ref("stg_files__events") }}
    where is_valid

),

customer_versions as (

    select
        customer_key,
        customer_id,
        window_start_at,
        window_end_at
    from {{ ref("int_customer_versions_windowed") }}

),

product_versions as (

    select
        product_key,
        sku,
        window_start_at,
        window_end_at
    from {{ ref("int_product_versions_windowed") }}

),

final as (

    select
        events.event_id,
        coalesce(customer_versions.customer_key, {{ unknown_member_key() }}) as customer_key,
        coalesce(product_versions.product_key, {{ unknown_member_key() }}) as product_key,
        {{ date_key("events.event_at") }} as date_key,
        events.user_id,
        events.customer_id,
        events.order_id,
        events.event_name,
        events.platform,
        events.product_name,
        events.sku,
        events.source_file,
        events.event_date,
        events.event_at,
        events.loaded_at
    from events
    left join customer_versions
        on
            events.customer_id = customer_versions.customer_id
            and {{ is_version_valid_at("events.event_at", "customer_versions") }}
    left join product_versions
        on
            events.sku = product_versions.sku
            and {{ is_version_valid_at("events.event_at", "product_versions") }}

)

select * from final
