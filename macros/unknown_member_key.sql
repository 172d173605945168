{#- The surrogate key of a dimension's unknown member: the hash of 'unknown'. Facts use it
    when no dimension row matches, so that inner joins never drop facts. -#}
{% macro unknown_member_key() -%}
    {{ generate_surrogate_key(["'unknown'"]) }}
{%- endmacro %}
