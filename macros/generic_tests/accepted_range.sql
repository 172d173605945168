{#- Fails on every row whose value lies outside [min_value, max_value] (or the open interval
    when inclusive=false). Either bound may be omitted. Nulls pass: pair with not_null. -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
    {%- if min_value is none and max_value is none -%}
        {{ exceptions.raise_compiler_error(
            "accepted_range on " ~ model ~ "." ~ column_name
            ~ ": give min_value, max_value or both"
        ) }}
    {%- endif -%}
    {%- set lower_operator = ">=" if inclusive else ">" -%}
    {%- set upper_operator = "<=" if inclusive else "<" -%}

with checked as (

    select *
    from {{ model }}
    where {{ column_name }} is not null

)

select *
from checked
where not (
    {%- if min_value is not none %}
    {{ column_name }} {{ lower_operator }} {{ min_value }}
    {%- endif %}
    {%- if min_value is not none and max_value is not none %} and{% endif %}
    {%- if max_value is not none %}
    {{ column_name }} {{ upper_operator }} {{ max_value }}
    {%- endif %}
)
{% endtest %}
