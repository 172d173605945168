{#- Fails when the newest value of `field` (a column or any timestamp expression) is older than
    `interval` `datepart`s before `reference_timestamp` (default: now), or when the relation
    has no row at all. Applied to a column, the column is the field. For simulated data on a
    business clock, pass the clock as reference_timestamp, e.g. "(select max(...) from ...)".
    Returns one row (newest value, threshold) when the relation is stale. -#}
{% test recency(model, datepart, interval, field=none, column_name=none, reference_timestamp=none) %}
    {%- set checked_field = field if field is not none else column_name -%}
    {%- if checked_field is none -%}
        {{ exceptions.raise_compiler_error(
            "recency on " ~ model ~ ": give `field` (a column or timestamp expression)"
            ~ " or apply the test to a column"
        ) }}
    {%- endif -%}
    {%- set reference = reference_timestamp if reference_timestamp is not none
        else dbt.current_timestamp() -%}

with newest as (

    select max({{ checked_field }}) as newest_value
    from {{ model }}

),

threshold as (

    select {{ dbt.dateadd(datepart, -1 * interval | int, reference) }} as oldest_allowed_value

)

select
    newest.newest_value,
    threshold.oldest_allowed_value
from newest
cross join threshold
where newest.newest_value is null
    or newest.newest_value < threshold.oldest_allowed_value

{% endtest %}
