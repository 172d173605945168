{#- dbt's `where` test config, plus one placeholder for incremental models: a test with
    `where: "__latest_batch__"` checks only the rows the model's last run wrote (the newest
    `dbt_built_at`, doc block `dbt_built_at`): every row after a full build, the changed ones
    after an incremental run. Only for row-level properties; tests/quality proves such a test
    still fails on one bad new row. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get("where") -%}
    {%- if where -%}
        {%- set latest_batch -%}
            dbt_built_at = (
                select max(latest_batch.dbt_built_at) from {{ relation }} as latest_batch
            )
        {%- endset -%}
        {%- set where = where | replace("__latest_batch__", latest_batch) -%}
        {%- do return("(select * from " ~ relation ~ " where " ~ where ~ ") as dbt_subquery") -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
