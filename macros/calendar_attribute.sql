{#- One calendar attribute of a date, for dim_date: `month_name` and `day_name` (English,
    unpadded), `iso_week_number`, `iso_year_number` (the ISO-8601 week-numbering year) and
    `iso_day_of_week_number` (Monday 1 to Sunday 7). Postgres spells them with to_char and
    extract's ISO fields, Spark with date_format and its own extract fields. -#}
{% macro calendar_attribute(attribute, column) -%}
    {%- set attributes = [
        "month_name", "day_name", "iso_week_number", "iso_year_number", "iso_day_of_week_number"
    ] -%}
    {%- if attribute not in attributes -%}
        {{ exceptions.raise_compiler_error(
            "calendar_attribute: unknown attribute '" ~ attribute ~ "', expected one of "
            ~ attributes | join(", ")
        ) }}
    {%- endif -%}
    {{ return(adapter.dispatch("calendar_attribute")(attribute, column)) }}
{%- endmacro %}

{% macro postgres__calendar_attribute(attribute, column) -%}
    {%- if attribute == "month_name" -%}
        to_char({{ column }}, 'FMMonth')
    {%- elif attribute == "day_name" -%}
        to_char({{ column }}, 'FMDay')
    {%- elif attribute == "iso_week_number" -%}
        extract(week from {{ column }})
    {%- elif attribute == "iso_year_number" -%}
        extract(isoyear from {{ column }})
    {%- else -%}
        extract(isodow from {{ column }})
    {%- endif -%}
{%- endmacro %}

{% macro spark__calendar_attribute(attribute, column) -%}
    {%- if attribute == "month_name" -%}
        date_format({{ column }}, 'MMMM')
    {%- elif attribute == "day_name" -%}
        date_format({{ column }}, 'EEEE')
    {%- elif attribute == "iso_week_number" -%}
        weekofyear({{ column }})
    {%- elif attribute == "iso_year_number" -%}
        extract(yearofweek from {{ column }})
    {%- else -%}
        extract(dayofweek_iso from {{ column }})
    {%- endif -%}
{%- endmacro %}
