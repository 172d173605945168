{#- Snapshot time on Postgres as `timestamptz`, the type of the sources' `updated_at` and of the
    snapshot tables' dbt_valid_from/dbt_valid_to columns. dbt-postgres' default casts now() to
    `timestamp without time zone`, which dbt then reports on every snapshot as a type mismatch
    with `updated_at`; the instant written is the same (the session's time zone applies either
    way), so existing snapshot tables keep their columns and values. -#}
{% macro postgres__snapshot_get_time() -%}
    {{ current_timestamp() }}
{%- endmacro %}
