{#- Post-hook of an incremental staging model (doc block `incremental_staging`): deletes the
    model's rows whose key the raw table no longer has, as a full build would not select
    them. Keys vanish from a raw table through dlt's hard_delete tombstones (the ops source)
    or when `shopflow ingest --full-refresh` rebuilds it. An anti-join on the raw table's key
    index. `after_rebuild_only` (for append-only sources): only when the model holds rows of
    a load older than any the raw table has, i.e. the raw table was rebuilt; two index
    look-ups otherwise. Nothing in a full build. -#}
{% macro remove_keys_gone_from_source(source_relation, key_column, after_rebuild_only=false) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as staged
        where
            not exists (
                select 1
                from {{ source_relation }} as source_row
                where source_row.{{ key_column }} = staged.{{ key_column }}
            )
            {%- if after_rebuild_only %}
            and (
                select oldest.load_id from {{ this }} as oldest order by oldest.loaded_at limit 1
            ) < (
                select min(source_row._dlt_load_id) from {{ source_relation }} as source_row
            )
            {%- endif %}
    {%- endif -%}
{%- endmacro %}
