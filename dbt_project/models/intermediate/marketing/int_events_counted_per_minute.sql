{#- The batch path's per-minute clickstream counts, computed from the raw events the way the
    stream consumer keys its `realtime` windows (minute of the event, event name, platform);
    assert_realtime_closed_windows_match_events compares the two after every build. -#}
with

events as (

    select
        event_name,
        platform,
        arrived_by,
        event_at
    from {{ ref("stg_files__events") }}
    where event_at is not null

),

keyed as (

    select
        coalesce(events.event_name, 'unknown') as event_name,
        coalesce(events.platform, 'unknown') as platform,
        events.arrived_by,
        date_trunc('minute', events.event_at) as window_start_at
    from events

),

final as (

    select
        event_name,
        platform,
        count(*) as event_count,
        sum(case when arrived_by = 'stream' then 1 else 0 end) as streamed_event_count,
        window_start_at
    from keyed
    group by window_start_at, event_name, platform

)

select * from final
