{#- Pre-hook of an incremental model that computes again the rows whose `key` the query
    `touched` selects: deletes them first, so that a row which turned invalid leaves the
    table. Nothing in a full build. -#}
{% macro delete_touched(key, touched) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ key }} = any(array({{ touched }}))
    {%- endif -%}
{%- endmacro %}
