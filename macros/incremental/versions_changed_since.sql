{#- For an incremental fact's re-keying (doc block `incremental_facts`): per entity
    (`key_column`) of a windowed SCD2 model, the earliest join-window start among its
    versions loaded after the fact's newest row or closed after it (a hard delete or an
    erasure closes the last version at the snapshot's time). Facts of those entities from
    that moment on may now point at another version and are keyed again. -#}
{% macro versions_changed_since(versions_relation, key_column) -%}
    select
        changed.{{ key_column }},
        min(changed.window_start_at) as changed_from
    from {{ versions_relation }} as changed
    cross join (select max(previous.loaded_at) as loaded_at from {{ this }} as previous) as newest
    where changed.loaded_at > newest.loaded_at or changed.valid_to > newest.loaded_at
    group by changed.{{ key_column }}
{%- endmacro %}
