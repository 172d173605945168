{#- The calendar months (dim_date) from the first to the last month of `monthly_figures`, a
    relation with a `month_start_date` column: every month in between, also those without a
    row there, so that month-over-month figures compare with the calendar month before. -#}
{% macro calendar_months_spanned(monthly_figures) -%}
    select distinct calendar.month_start_date
    from {{ ref("dim_date") }} as calendar
    where
        calendar.month_start_date
        >= (select min({{ monthly_figures }}.month_start_date) from {{ monthly_figures }})
        and calendar.month_start_date
        <= (select max({{ monthly_figures }}.month_start_date) from {{ monthly_figures }})
{%- endmacro %}
