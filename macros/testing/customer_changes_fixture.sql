{#- The rows of a unit test's change log (source ops.customers_changes), typed in each
    engine's SQL so the fixture needs no table in the warehouse. One dict per change: `id`
    (customer), `op`, `changed_at`, and for a state `updated_at` and `city` (the attribute the
    tests follow; the other personal columns are fixed), optional `lsn` (null when absent,
    as for `seen` rows) and `seq` (default 0). A delete carries only the key, as in the log.
    Change ids count from 1 in list order; each change's `_dlt_load_id` is `load-<change id>`,
    so an expectation can tell which change a version came from. -#}
{% macro customer_changes_fixture(changes) -%}
    {%- set text = dbt.type_string() -%}
    {%- set moment = dbt.type_timestamp() -%}
    {%- set number = dbt.type_bigint() -%}
    {%- for change in changes %}
        {%- set is_state = change.op != "delete" -%}
select
    cast({{ change.id }} as {{ number }}) as customer_id,
    cast({{ "'Ann'" if is_state else "null" }} as {{ text }}) as first_name,
    cast({{ "'Lee'" if is_state else "null" }} as {{ text }}) as last_name,
    cast({{ "'ann@example.com'" if is_state else "null" }} as {{ text }}) as email,
    cast({{ "'+44 1'" if is_state else "null" }} as {{ text }}) as phone,
    cast({{ "'GB'" if is_state else "null" }} as {{ text }}) as country_code,
    cast({{ "'" ~ change.city ~ "'" if is_state else "null" }} as {{ text }}) as city,
    cast({{ "'1 High St'" if is_state else "null" }} as {{ text }}) as address,
    cast({{ "'2024-12-01 00:00:00'" if is_state else "null" }} as {{ moment }}) as registered_at,
    cast({{ "'2024-12-01 00:00:00'" if is_state else "null" }} as {{ moment }}) as created_at,
    cast({{ "'" ~ change.updated_at ~ "'" if is_state else "null" }} as {{ moment }})
        as updated_at,
    cast('{{ change.op }}' as {{ text }}) as _cdc_op,
    cast({{ change.get("lsn", "null") }} as {{ number }}) as _cdc_lsn,
    cast({{ change.get("seq", 0) }} as {{ number }}) as _change_seq,
    cast('{{ change.changed_at }}' as {{ moment }}) as _changed_at,
    cast('{{ loop.index }}' as {{ text }}) as _change_id,
    cast('load-{{ loop.index }}' as {{ text }}) as _dlt_load_id,
    cast('dlt-{{ loop.index }}' as {{ text }}) as _dlt_id
        {%- if not loop.last %}
union all
        {% endif %}
    {%- endfor %}
{%- endmacro %}
