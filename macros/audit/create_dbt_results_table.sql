{#- Creates the schema and table that keep one row per node result of every dbt invocation,
    unless they exist. Called by the on-run-start hook (so models reading the table work on a
    fresh warehouse) and again by store_run_results. Returns the table's relation. -#}
{% macro create_dbt_results_table() %}
    {%- set results_relation = api.Relation.create(
        database=target.database,
        schema=var("dbt_results_schema", "audit"),
        identifier="dbt_results",
        type="table",
    ) -%}
    {%- if execute -%}
        {%- do adapter.create_schema(results_relation) -%}
        {%- call statement("create_dbt_results_table") -%}
            create table if not exists {{ results_relation }} (
                invocation_id {{ dbt.type_string() }} not null,
                run_started_at {{ dbt.type_timestamp() }} not null,
                command {{ dbt.type_string() }},
                unique_id {{ dbt.type_string() }} not null,
                node_name {{ dbt.type_string() }},
                resource_type {{ dbt.type_string() }},
                status {{ dbt.type_string() }},
                failures {{ dbt.type_bigint() }},
                rows_affected {{ dbt.type_bigint() }},
                execution_time {{ dbt.type_float() }},
                message {{ dbt.type_string() }},
                stored_at {{ dbt.type_timestamp() }} not null,
                production_run_id {{ dbt.type_string() }}
            )
        {%- endcall -%}
        {#- added after the first release: tables made before it gain the column -#}
        {%- call statement("add_production_run_id") -%}
            alter table {{ results_relation }}
            add column if not exists production_run_id {{ dbt.type_string() }}
        {%- endcall -%}
    {%- endif -%}
    {{- return(results_relation) -}}
{% endmacro %}
