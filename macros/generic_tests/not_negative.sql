{#- Fails on every row where the column is below zero (amounts, quantities, counts).
    Nulls pass: pair with not_null. -#}
{% test not_negative(model, column_name) %}

select *
from {{ model }}
where {{ column_name }} < 0

{% endtest %}
