{#- Spark (plain Parquet, no Delta): a table rebuilt in full. insert_overwrite by day would
    rewrite only the days the new rows hold, so a day left without rows would keep its old
    figures; Parquet tables cannot delete them as the Postgres pre-hook does. -#}
{{ config(
    materialized="incremental" if target.type == "postgres" else "table",
    unique_key="funnel_day_id",
    incremental_strategy="delete+insert",
    on_schema_change="append_new_columns",
    pre_hook="{{ delete_touched_days(ref('fct_events')) }}",
    contract={"enforced": target.type == "postgres"},
    indexes=[
        {"columns": ["event_date", "platform"], "unique": true},
        {"columns": ["date_key"]},
        {"columns": ["loaded_at"]},
        {"columns": ["dbt_built_at"]},
    ],
) }}

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
