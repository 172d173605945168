{#- Post-hook of every model: ANALYZE a table the model just (re)built, so that the next
    queries (downstream models, tests) are planned with statistics. dbt creates tables with
    `create table as`, which leaves Postgres none until autovacuum passes: a test on a table
    built seconds before was once planned as nested loops over 50,000 x 50,000 rows and ran
    for minutes. Views: nothing. Spark: nothing (it plans from the Parquet files' sizes and
    footers, and its cost-based optimiser is off). -#}
{% macro analyze_table() -%}
    {%- if target.type == "postgres" and config.get("materialized") in ("table", "incremental") -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
