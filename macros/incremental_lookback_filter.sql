{#- In an incremental run, keep the rows whose `column` is no older than the newest value
    already in the table minus var('incremental_lookback_days') days, so late-arriving
    and updated rows are merged again. Renders `true` in a full build. -#}
{% macro incremental_lookback_filter(column, this_column=none) -%}
    {%- if is_incremental() -%}
        {{ column }} >= (
            select {{ dbt.dateadd(
                "day",
                -1 * var("incremental_lookback_days") | int,
                "max(" ~ (this_column or column) ~ ")"
            ) }}
            from {{ this }}
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
