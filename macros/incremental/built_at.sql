{#- The `dbt_built_at` column of an incremental model (doc block `dbt_built_at`): when this
    dbt invocation started, the same value for every row it writes. -#}
{% macro built_at() -%}
    {{ dbt.cast("'" ~ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") ~ "'", dbt.type_timestamp()) }}
{%- endmacro %}
