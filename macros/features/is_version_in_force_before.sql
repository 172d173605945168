{#- Join condition of a feature row to the SCD2 version in force just before its as-of time
    (doc block `feature_as_of_rule`): started strictly before it, not ended before it. Unlike
    is_version_valid_at(), no widened window: before the first version, nothing is known. -#}
{% macro is_version_in_force_before(as_of_at, version_relation) -%}
    {{ as_of_at }} > {{ version_relation }}.valid_from
    and (
        {{ as_of_at }} <= {{ version_relation }}.valid_to
        or {{ version_relation }}.valid_to is null
    )
{%- endmacro %}
