{#- Fails on every row whose value is not shaped like an e-mail address
    (local-part@domain.tld, no spaces). Nulls pass: pair with not_null when the address is
    mandatory. The regular-expression syntax differs per warehouse, so the match is dispatched:
    Postgres uses the case-insensitive `~*` operator, other warehouses `regexp_like`. -#}
{% test valid_email(model, column_name) %}
    {{ return(adapter.dispatch("test_valid_email")(model, column_name)) }}
{% endtest %}

{% macro default__test_valid_email(model, column_name) %}

select *
from {{ model }}
where {{ column_name }} is not null
    and not regexp_like({{ column_name }}, '^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$')

{% endmacro %}

{% macro postgres__test_valid_email(model, column_name) %}

select *
from {{ model }}
where {{ column_name }} is not null
    and {{ column_name }} !~* '^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$'

{% endmacro %}
