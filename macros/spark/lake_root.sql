{#- The Parquet lake's root without a trailing slash: SHOPFLOW_LAKE_URL, else
    `<SHOPFLOW_HOME>/lake` (SHOPFLOW_HOME defaulting to `.shopflow` under the project, where
    dbt runs), the default of ingestion/settings.py's lake_url() (tests/spark checks that they
    agree; the CLI passes both variables as absolute paths). Object storage goes through
    Hadoop's S3A connector, whose scheme is `s3a://`: an `s3://` URL is read as such. -#}
{% macro lake_root() -%}
    {%- set home = env_var("SHOPFLOW_HOME", "") | trim or ".shopflow" -%}
    {%- set lake = (env_var("SHOPFLOW_LAKE_URL", "") | trim or home ~ "/lake").rstrip("/") -%}
    {%- if lake.startswith("s3://") -%}
        {%- set lake = "s3a://" ~ lake[5:] -%}
    {%- endif -%}
    {{- return(lake) -}}
{%- endmacro %}
