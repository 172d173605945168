{#- dbt's `grants` config on Spark: nothing. The grantees (the read-only `analyst` role) are
    Postgres roles, and a local Spark session on a Hive metastore has no SQL authorization to
    grant with (dbt-spark would run SHOW GRANTS and GRANT, which Spark SQL lacks). Overrides
    dbt's grant step for Spark: dbt dispatches to the root project first. -#}
{% macro spark__apply_grants(relation, grant_config, should_revoke=True) -%}
    {%- do log("grants skipped on Spark for " ~ relation, info=false) -%}
{%- endmacro %}
