{#- Join condition of a point-in-time (SCD2) join (doc block `point_in_time_join`): the
    version whose join window holds the fact's moment. -#}
{% macro is_version_valid_at(fact_timestamp, version_relation) -%}
    {{ fact_timestamp }} >= {{ version_relation }}.window_start_at
    and {{ fact_timestamp }} < {{ version_relation }}.window_end_at
{%- endmacro %}
