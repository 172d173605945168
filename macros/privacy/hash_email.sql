{#- A join key for an e-mail address that does not reveal it: hex sha256 of the trimmed,
    lower-cased address (the same address hashes the same in any system). Null stays null.
    Postgres spells sha256 through bytes; Spark (and the default) has sha2(text, 256). -#}
{% macro hash_email(column) -%}
    {{ return(adapter.dispatch("hash_email")(column)) }}
{%- endmacro %}

{% macro default__hash_email(column) -%}
    sha2(lower(trim({{ column }})), 256)
{%- endmacro %}

{% macro postgres__hash_email(column) -%}
    encode(sha256(convert_to(lower(trim({{ column }})), 'UTF8')), 'hex')
{%- endmacro %}
