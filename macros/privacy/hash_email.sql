{#- A join key for an e-mail address that does not reveal it: hex sha256 of the trimmed,
    lower-cased address (the same address hashes the same in any system). Null stays null. -#}
{% macro hash_email(column) -%}
    encode(sha256(convert_to(lower(trim({{ column }})), 'UTF8')), 'hex')
{%- endmacro %}
