{#- Fails on every combination of `combination_of_columns` (a list of columns or expressions)
    held by more than one row: the compound primary-key test. Returns each duplicated
    combination with its row count. Nulls count as values (two null pairs are duplicates). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- if combination_of_columns is string or combination_of_columns | length < 2 -%}
        {{ exceptions.raise_compiler_error(
            "unique_combination_of_columns on " ~ model
            ~ ": combination_of_columns must list at least two columns (for one, use unique)"
        ) }}
    {%- endif -%}

select
    {%- for column in combination_of_columns %}
    {{ column }},
    {%- endfor %}
    count(*) as row_count
from {{ model }}
group by {{ combination_of_columns | join(", ") }}
having count(*) > 1

{% endtest %}
