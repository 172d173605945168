{#- on-run-end hook: inserts one row per node result of this invocation (models, tests, seeds,
    snapshots, hooks) into <dbt_results_schema>.dbt_results, creating it if missing. The var
    environment variable `SHOPFLOW_DBT_RUN_ID` (set by `shopflow run` on its production build
    and by `shopflow retry` on its resumption, read at run time: a var whose value changes every
    run would make dbt parse the whole project again) marks the rows of a production build. Inserts in batches of 500 rows. Renders no SQL
    itself: the hook statement is empty. -#}
{% macro store_run_results(results) %}
    {%- if execute and results -%}
        {%- set results_relation = create_dbt_results_table() -%}
        {%- set started_at = run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") -%}
        {%- set production_run_id = env_var("SHOPFLOW_DBT_RUN_ID", "") -%}
        {%- set production_value = "'" ~ dbt.escape_single_quotes(production_run_id) ~ "'"
            if production_run_id else "null" -%}
        {%- set rows = [] -%}
        {%- for result in results -%}
            {%- set node = result.node -%}
            {%- set adapter_response = result.adapter_response or {} -%}
            {%- set rows_affected = adapter_response.get("rows_affected") -%}
            {%- do rows.append(
                "("
                ~ "'" ~ invocation_id ~ "', "
                ~ "cast('" ~ started_at ~ "' as " ~ dbt.type_timestamp() ~ "), "
                ~ "'" ~ flags.WHICH ~ "', "
                ~ "'" ~ dbt.escape_single_quotes(node.unique_id) ~ "', "
                ~ "'" ~ dbt.escape_single_quotes(node.name) ~ "', "
                ~ "'" ~ node.resource_type ~ "', "
                ~ "'" ~ result.status ~ "', "
                ~ (result.failures if result.failures is not none else "null") ~ ", "
                ~ (rows_affected if rows_affected is not none else "null") ~ ", "
                ~ (result.execution_time if result.execution_time is not none else "null") ~ ", "
                ~ ("'" ~ dbt.escape_single_quotes(result.message | string) ~ "'"
                    if result.message is not none else "null") ~ ", "
                ~ dbt.current_timestamp_in_utc_backcompat() ~ ", "
                ~ production_value
                ~ ")"
            ) -%}
        {%- endfor -%}
        {%- for batch in rows | batch(500) -%}
            {%- call statement("store_run_results_" ~ loop.index) -%}
                insert into {{ results_relation }} (
                    invocation_id, run_started_at, command, unique_id, node_name, resource_type,
                    status, failures, rows_affected, execution_time, message, stored_at,
                    production_run_id
                )
                values
                {{ batch | join(",\n") }}
            {%- endcall -%}
        {%- endfor -%}
        {%- do adapter.commit() -%}
        {{- log("store_run_results: stored " ~ rows | length ~ " node results in "
            ~ results_relation, info=false) -}}
    {%- endif -%}
{% endmacro %}
