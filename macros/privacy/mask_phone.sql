{#- A display form of a phone number: `***` and its last four digits (`***6789`). Null
    stays null. -#}
{% macro mask_phone(column) -%}
    '***' || right(regexp_replace({{ column }}, '[^0-9]', '', 'g'), 4)
{%- endmacro %}
