{#- For every closed `realtime` window (its minute ended at or before the stream's watermark),
    the consumer's count plus the late events it set apart equals the streamed events the
    raw table holds for that minute, name and platform (int_events_counted_per_minute).
    Returns the windows that differ. Without a `realtime` schema (the stream never ran) there
    is nothing to compare. -#}
-- depends_on: {{ ref("int_events_counted_per_minute") }}
{%- set counts = adapter.get_relation(
    database=target.database, schema="realtime", identifier="event_counts_per_minute"
) -%}
{%- if counts is none %}
select 1 as nothing_streamed
where false
{%- else %}
with

watermark as (

    select watermark_at
    from realtime.watermarks
    where stream_name = 'clickstream'

),

streamed as (

    select
        window_start_at,
        event_name,
        platform,
        event_count
    from realtime.event_counts_per_minute

),

late as (

    select
        window_start_at,
        event_name,
        platform,
        count(*) as late_count
    from realtime.late_events
    group by window_start_at, event_name, platform

),

batch as (

    select
        window_start_at,
        event_name,
        platform,
        streamed_event_count
    from {{ ref("int_events_counted_per_minute") }}
    where streamed_event_count > 0

),

windows as (

    select
        window_start_at,
        event_name,
        platform
    from streamed
    union
    select
        window_start_at,
        event_name,
        platform
    from late
    union
    select
        window_start_at,
        event_name,
        platform
    from batch

),

compared as (

    select
        windows.window_start_at,
        windows.event_name,
        windows.platform,
        coalesce(streamed.event_count, 0) + coalesce(late.late_count, 0) as stream_count,
        coalesce(batch.streamed_event_count, 0) as batch_count
    from windows
    cross join watermark
    left join streamed
        on
            windows.window_start_at = streamed.window_start_at
            and windows.event_name = streamed.event_name
            and windows.platform = streamed.platform
    left join late
        on
            windows.window_start_at = late.window_start_at
            and windows.event_name = late.event_name
            and windows.platform = late.platform
    left join batch
        on
            windows.window_start_at = batch.window_start_at
            and windows.event_name = batch.event_name
            and windows.platform = batch.platform
    where windows.window_start_at + interval '1 minute' <= watermark.watermark_at

)

select *
from compared
where stream_count != batch_count
{%- endif %}
