{#- Pre-hook of an incremental staging model: the indexes its incremental runs need on the
    raw table it reads (dlt creates none), so that finding the rows of new loads and the
    versions of their keys is an index scan, never a full scan of the raw table. Idempotent
    and cheap once built; a raw table swapped in by `shopflow ingest --full-refresh` gets
    them again on the next build. Spark has no indexes (and builds staging as tables): nothing
    there. -#}
{% macro index_source(source_relation, key_column, load_id_column="_dlt_load_id") -%}
    {%- for column in ([load_id_column, key_column] if target.type == "postgres" else []) %}
    create index if not exists
        {{ adapter.quote(source_relation.identifier ~ "__" ~ column ~ "__idx") }}
        on {{ source_relation }} ({{ column }});
    {%- endfor %}
{%- endmacro %}
