{#- Filter of an incremental staging model's import CTE (doc block `incremental_staging`):
    in an incremental run, only the raw rows of keys that a dlt load newer than the model's
    watermark wrote, so that deduplication sees every version of those keys and none of
    the others; `true` in a full build. -#}
{% macro touched_keys_filter(source_relation, key_column, load_id_column="_dlt_load_id") -%}
    {%- if is_incremental() -%}
        {{ key_column }} in (
            select touched.{{ key_column }}
            from {{ source_relation }} as touched
            where touched.{{ load_id_column }} > {{ load_watermark() }}
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
