{#- Fails on every row where `expression` is false, e.g. "net_amount <= gross_amount".
    Applied to a column, the expression is appended to the column name, so
    `expression: ">= 0"` on `quantity` checks "quantity >= 0". Rows where the expression is
    null pass (SQL three-valued logic): add "coalesce(...)" or not_null to be strict. -#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not ({{ column_name ~ " " if column_name is not none else "" }}{{ expression }})

{% endtest %}
