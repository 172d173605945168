{#- The SCD2 history a versions model reads (docs/scale-out.md, "SCD2 on both engines"): the
    dbt snapshot itself on Postgres; on engines without dbt snapshots (Spark: plain Parquet
    cannot merge), the staging projection of that snapshot as the lake export carries it. -#}
{% macro scd2_history(snapshot_name, lake_projection_name) -%}
    {{ return(ref(snapshot_name) if target.type == "postgres" else ref(lake_projection_name)) }}
{%- endmacro %}
