{#- A display form of an e-mail address: its first character, then `***@` and the domain
    (`j***@example.com`). Null stays null. -#}
{% macro mask_email(column) -%}
    left(trim({{ column }}), 1) || '***@' || split_part(trim({{ column }}), '@', 2)
{%- endmacro %}
