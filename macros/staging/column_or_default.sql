{#- A raw column that an older warehouse may not have yet: the column when the relation has it,
    else `default` (a SQL expression). dlt adds a column to a raw table on the first load that
    carries it, so a warehouse upgraded to code that reads a new column builds before that
    load (a run whose source had nothing new) instead of failing. -#}
{% macro column_or_default(relation, column, default) %}
    {%- set present = [] -%}
    {%- if execute -%}
        {%- for existing in adapter.get_columns_in_relation(relation) -%}
            {%- if existing.name | lower == column | lower -%}
                {%- do present.append(existing.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{- column if present else default -}}
{% endmacro %}
