{#- dbt's `where` test config, plus one placeholder for incremental models: a test with
    `where: "__latest_batch__"` checks only the rows the model's last run wrote (the newest
    `dbt_built_at`, doc block `dbt_built_at`): every row after a full build, the changed ones
    after an incremental run. Only for row-level properties; tests/macros proves such a test
    still fails on one bad new row. The newest value is read when the test runs and written
    as a literal: compared with a subquery, Postgres could not use the column's statistics
    and scanned the whole table. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get("where") -%}
    {%- if where -%}
        {%- if "__latest_batch__" in where -%}
            {%- set newest = none -%}
            {%- if execute -%}
                {%- set newest = run_query(
                    "select cast(max(dbt_built_at) as " ~ dbt.type_string() ~ ") from " ~ relation
                ).columns[0].values()[0] -%}
            {%- endif -%}
            {%- set latest_batch = "dbt_built_at = " ~ (
                dbt.cast("'" ~ newest ~ "'", dbt.type_timestamp()) if newest is not none
                else "null"
            ) -%}
            {%- set where = where | replace("__latest_batch__", latest_batch) -%}
        {%- endif -%}
        {%- do return("(select * from " ~ relation ~ " where " ~ where ~ ") as dbt_subquery") -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
