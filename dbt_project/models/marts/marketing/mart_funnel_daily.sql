{{ config(**incremental_by_key_config(
    "funnel_day_id",
    ["date_key", "loaded_at", "dbt_built_at"],
    unique_index=["event_date", "platform"],
    pre_hook="{{ delete_touched_days(ref('fct_events')) }}",
)) }}

{#- Incremental rule: doc block `incremental_aggregates`. -#}

with

events as (

    select
        user_id,
        event_name,
        platform,
        event_date,
        loaded_at
    from {{ ref("fct_events") }}
    {% if is_incremental() -%}
    where date_key in ({{ touched_days(ref("fct_events")) }})
    {%- endif %}

),

steps as (

    {#- counting rules: doc block `funnel` -#}
    select
        events.event_date,
        events.platform,
        count(distinct case when events.event_name = 'view' then events.user_id end)
            as viewers,
        count(distinct case when events.event_name = 'click' then events.user_id end)
            as clickers,
        count(distinct case when events.event_name = 'add_to_cart' then events.user_id end)
            as cart_adders,
        count(distinct case when events.event_name = 'purchase' then events.user_id end)
            as purchasers,
        max(events.loaded_at) as loaded_at
    from events
    group by events.event_date, events.platform

),

final as (

    select
        {{ generate_surrogate_key(["steps.event_date", "steps.platform"]) }} as funnel_day_id,
        {{ date_key("steps.event_date") }} as date_key,
        steps.platform,
        cast(steps.viewers as {{ dbt.type_int() }}) as viewers,
        cast(steps.clickers as {{ dbt.type_int() }}) as clickers,
        cast(steps.cart_adders as {{ dbt.type_int() }}) as cart_adders,
        cast(steps.purchasers as {{ dbt.type_int() }}) as purchasers,
        cast(1.0 * steps.clickers / nullif(steps.viewers, 0) as {{ dbt.type_numeric() }})
            as view_to_click_rate,
        cast(1.0 * steps.cart_adders / nullif(steps.clickers, 0) as {{ dbt.type_numeric() }})
            as click_to_cart_rate,
        cast(
            1.0 * steps.purchasers / nullif(steps.cart_adders, 0) as {{ dbt.type_numeric() }}
        ) as cart_to_purchase_rate,
        cast(1.0 * steps.purchasers / nullif(steps.viewers, 0) as {{ dbt.type_numeric() }})
            as view_to_purchase_rate,
        steps.event_date,
        steps.loaded_at,
        {{ built_at() }} as dbt_built_at
    from steps

)

select * from final
