{{ config(contract={"enforced": true}, indexes=[{"columns": ["date_day"], "unique": true}]) }}

with

spine as (

    {{ dbt.date_spine(
        datepart="day",
        start_date=dbt.cast("'" ~ var("date_spine_start") ~ "'", api.Column.translate_type("date")),
        end_date=dbt.dateadd("day", 1, dbt.cast("'" ~ var("date_spine_end") ~ "'", api.Column.translate_type("date")))
    ) }}

),

final as (

    select
        {{ date_key("spine.date_day") }} as date_key,
        to_char(spine.date_day, 'FMMonth') as month_name,
        to_char(spine.date_day, 'FMDay') as day_name,
        cast(extract(year from spine.date_day) as integer) as year_number,
        cast(extract(quarter from spine.date_day) as integer) as quarter_number,
        cast(extract(month from spine.date_day) as integer) as month_number,
        cast(extract(week from spine.date_day) as integer) as iso_week_number,
        cast(extract(isoyear from spine.date_day) as integer) as iso_year_number,
        cast(extract(isodow from spine.date_day) as integer) as day_of_week_number,
        cast(extract(day from spine.date_day) as integer) as day_of_month_number,
        coalesce(extract(isodow from spine.date_day) in (6, 7), false) as is_weekend,
        cast(spine.date_day as date) as date_day,
        cast({{ dbt.date_trunc("week", "spine.date_day") }} as date) as week_start_date,
        cast({{ dbt.date_trunc("month", "spine.date_day") }} as date) as month_start_date,
        cast({{ dbt.date_trunc("quarter", "spine.date_day") }} as date) as quarter_start_date
    from spine

)

select * from final
