{#- The config of an incremental staging model that reads one raw table by its key (doc block
    `incremental_staging`): before the build the raw table gets an index on the key (the
    touched-keys filter reads by it), after it the keys gone from the raw table go from the
    model, and the model is indexed on the key (unique), `loaded_at`, `dbt_built_at` and then
    `indexed_columns`. `after_rebuild_only`: see remove_keys_gone_from_source. -#}
{% macro staging_incremental_config(
    source_name, table_name, unique_key, indexed_columns=[], after_rebuild_only=false
) -%}
    {%- set raw_table = "source('" ~ source_name ~ "', '" ~ table_name ~ "')" -%}
    {%- set removal_arguments = raw_table ~ ", '" ~ unique_key ~ "'" ~ (
        ", after_rebuild_only=true" if after_rebuild_only else ""
    ) -%}
    {{ return(incremental_by_key_config(
        unique_key,
        ["loaded_at", "dbt_built_at"] + indexed_columns,
        unique_index=[unique_key],
        pre_hook="{{ index_source(" ~ raw_table ~ ", '" ~ unique_key ~ "') }}",
        post_hook="{{ remove_keys_gone_from_source(" ~ removal_arguments ~ ") }}",
    )) }}
{%- endmacro %}
