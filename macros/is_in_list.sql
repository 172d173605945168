{#- True when the column holds one of the given values (a list of strings), false
    otherwise (including null). Used for the enum checks of staging's `is_valid`. -#}
{% macro is_in_list(column, values) -%}
    coalesce({{ column }} in (
        {%- for value in values -%}
            '{{ value }}'{% if not loop.last %}, {% endif %}
        {%- endfor -%}
    ), false)
{%- endmacro %}
