{#- The config of a model that Postgres builds incrementally by key (delete+insert of the keys
    a load touched) and Spark rebuilds in full: Spark's tables here are plain Parquet (no
    Delta), which cannot delete rows, and insert_overwrite rewrites whole partitions (a day
    left without rows would keep its old figures), not keys. The one place that decides an
    incremental model's materialisation per engine; use it as
    `{{ config(**incremental_by_key_config(...)) }}`. `unique_index` (a list of columns) is
    indexed first as unique, then each of `indexed_columns` alone. -#}
{% macro incremental_by_key_config(
    unique_key, indexed_columns, unique_index=none, pre_hook=none, post_hook=none
) -%}
    {%- set indexes = [{"columns": unique_index, "unique": true}] if unique_index else [] -%}
    {%- for column in indexed_columns -%}
        {%- do indexes.append({"columns": [column]}) -%}
    {%- endfor -%}
    {%- set settings = {
        "materialized": "incremental" if target.type == "postgres" else "table",
        "unique_key": unique_key,
        "incremental_strategy": "delete+insert",
        "on_schema_change": "append_new_columns",
        "indexes": indexes,
    } -%}
    {%- if pre_hook is not none -%}{%- do settings.update({"pre_hook": pre_hook}) -%}{%- endif -%}
    {%- if post_hook is not none -%}
        {%- do settings.update({"post_hook": post_hook}) -%}
    {%- endif -%}
    {{ return(settings) }}
{%- endmacro %}
