{#- Each layer gets its own schema named after the layer (staging, intermediate, marts,
    snapshots, seeds, audit), not dbt's default `<target schema>_<custom schema>`. Models
    without a custom schema land in the target schema.
    With SHOPFLOW_SCHEMA_PREFIX set (slim CI does), the layers become `<prefix>_<layer>`, so
    a CI build sits beside production in the same database and can defer to it. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set prefix = env_var('SHOPFLOW_SCHEMA_PREFIX', '') | trim -%}
    {%- set layer = target.schema if custom_schema_name is none else custom_schema_name | trim -%}
    {%- if prefix -%}
        {{ prefix }}_{{ layer }}
    {%- else -%}
        {{ layer }}
    {%- endif -%}
{%- endmacro %}
