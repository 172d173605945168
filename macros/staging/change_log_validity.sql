{#- The SCD2 columns of a change-log version (doc block `scd2_change_log`), shaped like a
    dbt snapshot's: `dbt_scd_id` (hash of the key and `updated_at`), `dbt_updated_at`,
    `dbt_valid_from` (the version's `updated_at`) and `dbt_valid_to` (the key's next
    version's, null for the latest). `relation` holds one row per key and `updated_at`. -#}
{% macro change_log_validity(relation, key_column, updated_at="updated_at") -%}
    {{ generate_surrogate_key([relation ~ "." ~ key_column, relation ~ "." ~ updated_at]) }}
        as dbt_scd_id,
    {{ relation }}.{{ updated_at }} as dbt_updated_at,
    {{ relation }}.{{ updated_at }} as dbt_valid_from,
    lead({{ relation }}.{{ updated_at }}) over (
        partition by {{ relation }}.{{ key_column }} order by {{ relation }}.{{ updated_at }}
    ) as dbt_valid_to
{%- endmacro %}
