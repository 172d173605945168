{#- The largest value of `column` in the incremental model being built, read when the model
    runs and rendered as a literal of type `data_type`: the earliest representable value
    when the table is empty or lacks the column (a table built before the column existed:
    everything counts as new, so the run rewrites it all), and at parse time. A literal,
    not a subquery: Postgres then estimates the rows past it from the column's statistics
    and uses its index. -#}
{% macro newest_value(column, data_type) -%}
    {%- set newest = none -%}
    {%- if execute -%}
        {%- set existing = adapter.get_columns_in_relation(this) | map(attribute="name")
            | list -%}
        {%- if column in existing -%}
            {%- set newest = run_query(
                "select cast(max(" ~ column ~ ") as " ~ dbt.type_string() ~ ") from " ~ this
            ).columns[0].values()[0] -%}
        {%- endif -%}
    {%- endif -%}
    {{ dbt.cast("'" ~ (newest if newest is not none else "0001-01-01") ~ "'", data_type) }}
{%- endmacro %}
