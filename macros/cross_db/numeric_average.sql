{#- avg() of a whole-number expression (ratings, quantities) as a numeric, with Postgres'
    result on every engine: Postgres divides numerics to at least 16 significant digits
    (3.6666666666666667), Spark's decimal avg keeps the input's scale plus 4. Spark divides
    the integer sum at 18 decimals and rounds to 16, half up as Postgres rounds: the same
    digits for averages from 1 to 9999, which Postgres gives 16 decimals. -#}
{% macro numeric_average(expression) -%}
    {{ return(adapter.dispatch("numeric_average")(expression)) }}
{%- endmacro %}

{% macro default__numeric_average(expression) -%}
    avg(cast({{ expression }} as {{ dbt.type_numeric() }}))
{%- endmacro %}

{% macro spark__numeric_average(expression) -%}
    round(
        cast(sum({{ expression }}) as decimal(20, 0))
        / cast(count({{ expression }}) as decimal(18, 0)),
        16
    )
{%- endmacro %}
