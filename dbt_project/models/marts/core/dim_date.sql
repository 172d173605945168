with

spine as (

    {{ dbt.date_spine(
        datepart="day",
        start_date=dbt.cast("'" ~ var("date_spine_start") ~ "'", api.Column.translate_type("date")),
        end_date=dbt.dateadd("day", 1, dbt.cast("'" ~ var("date_spine_end") ~ "'", api.Column.translate_type("date")))
    ) }}

),

business_clock as (

    select business_today_date
    from {{ ref("int_business_clock") }}

),

windows as (

    {#- the window anchors, once; no clock row (empty warehouse) leaves them null and every
        flag false -#}
    select
        business_clock.business_today_date,
        cast({{ dbt.date_trunc("month", "business_clock.business_today_date") }} as date)
            as this_month_start_date,
        cast({{ dbt.date_trunc("quarter", "business_clock.business_today_date") }} as date)
            as this_quarter_start_date
    from business_clock

),

final as (

    select
        {{ date_key("spine.date_day") }} as date_key,
        {{ calendar_attribute("month_name", "spine.date_day") }} as month_name,
        {{ calendar_attribute("day_name", "spine.date_day") }} as day_name,
        cast(extract(year from spine.date_day) as integer) as year_number,
        cast(extract(quarter from spine.date_day) as integer) as quarter_number,
        cast(extract(month from spine.date_day) as integer) as month_number,
        cast({{ calendar_attribute("iso_week_number", "spine.date_day") }} as integer)
            as iso_week_number,
        cast({{ calendar_attribute("iso_year_number", "spine.date_day") }} as integer)
            as iso_year_number,
        cast({{ calendar_attribute("iso_day_of_week_number", "spine.date_day") }} as integer)
            as day_of_week_number,
        cast(extract(day from spine.date_day) as integer) as day_of_month_number,
        cast(
            {{ dbt.datediff("cast(spine.date_day as date)", "windows.business_today_date", "day") }}
            as {{ dbt.type_int() }}
        ) as days_before_business_today,
        coalesce(
            {{ calendar_attribute("iso_day_of_week_number", "spine.date_day") }} in (6, 7), false
        ) as is_weekend,
        {#- window rules: doc block `business_clock` -#}
        coalesce(cast(spine.date_day as date) = windows.business_today_date, false)
            as is_business_today,
        coalesce(
            cast(spine.date_day as date)
            between windows.business_today_date - 6 and windows.business_today_date,
            false
        ) as is_last_7_days,
        coalesce(
            cast(spine.date_day as date)
            between windows.business_today_date - 29 and windows.business_today_date,
            false
        ) as is_last_30_days,
        coalesce(
            cast({{ dbt.date_trunc("month", "spine.date_day") }} as date)
            = windows.this_month_start_date,
            false
        ) as is_this_month,
        coalesce(
            cast({{ dbt.date_trunc("month", "spine.date_day") }} as date)
            = cast({{ dbt.dateadd("month", -1, "windows.this_month_start_date") }} as date),
            false
        ) as is_last_month,
        coalesce(
            cast({{ dbt.date_trunc("quarter", "spine.date_day") }} as date)
            = windows.this_quarter_start_date,
            false
        ) as is_this_quarter,
        coalesce(
            cast({{ dbt.date_trunc("quarter", "spine.date_day") }} as date)
            = cast({{ dbt.dateadd("month", -3, "windows.this_quarter_start_date") }} as date),
            false
        ) as is_last_quarter,
        cast(spine.date_day as date) as date_day,
        cast({{ dbt.date_trunc("week", "spine.date_day") }} as date) as week_start_date,
        cast({{ dbt.date_trunc("month", "spine.date_day") }} as date) as month_start_date,
        cast({{ dbt.date_trunc("quarter", "spine.date_day") }} as date) as quarter_start_date
    from spine
    left join windows
        on true

)

select * from final
