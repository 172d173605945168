{#- On-run-start on Spark: makes every (enabled) source readable where staging expects
    it, `<source schema>.<table>` (e.g. raw_ops.orders), as a view over the table's Parquet
    folder in the lake, `<lake>/<source schema>/<table>/` (ingestion/lake/). Views, not
    external tables: Spark discovers the Hive partitions (`event_date=...`) and new files on
    every read, so nothing needs repairing after an export. The lake's root comes from
    SHOPFLOW_LAKE_URL, by default `<SHOPFLOW_HOME>/lake` like ingestion/settings.py (the CLI
    passes both as absolute paths). Postgres reads the raw schemas themselves: nothing there. -#}
{% macro register_lake_sources() -%}
    {%- if execute and target.type == "spark" -%}
        {%- set lake = lake_root() -%}
        {%- set schemas = [] -%}
        {%- for node in graph.sources.values() -%}
            {%- if node.schema not in schemas -%}
                {%- do run_query("create schema if not exists " ~ node.schema) -%}
                {%- do schemas.append(node.schema) -%}
            {%- endif -%}
            {%- do run_query(
                "create or replace view " ~ node.schema ~ "." ~ node.identifier
                ~ " as select * from parquet.`" ~ lake ~ "/" ~ node.schema ~ "/"
                ~ node.identifier ~ "`"
            ) -%}
        {%- endfor -%}
        {%- do log("lake sources registered from " ~ lake, info=true) -%}
    {%- endif -%}
{%- endmacro %}
