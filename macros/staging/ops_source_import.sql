{#- The import CTE `source` of an incremental ops staging model (doc block
    `incremental_staging`): the raw table's `columns` plus the bookkeeping columns that
    ops_record_columns reads, limited to the touched keys in an incremental run. -#}
{% macro ops_source_import(table_name, key_column, columns) -%}
source as (

    select
        {{ (columns + ["created_at", "updated_at", "_dlt_load_id"]) | join(",\n        ") }}
    from {{ source("ops", table_name) }}
    where {{ touched_keys_filter(source("ops", table_name), key_column) }}

)
{%- endmacro %}
