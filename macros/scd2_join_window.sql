{#- The point-in-time join window of an SCD2 version (doc block `point_in_time_join`): its
    validity, widened so that the key's first version is valid from the beginning of time
    and the current one until 9999-12-31. Renders two columns: window_start_at and
    window_end_at. -#}
{% macro scd2_join_window(version_number, valid_from, valid_to) -%}
    case
        when {{ version_number }} = 1
            then {{ dbt.cast("'1900-01-01 00:00:00'", dbt.type_timestamp()) }}
        else {{ valid_from }}
    end as window_start_at,
    coalesce(
        {{ valid_to }},
        {{ dbt.cast("'9999-12-31 00:00:00'", dbt.type_timestamp()) }}
    ) as window_end_at
{%- endmacro %}
