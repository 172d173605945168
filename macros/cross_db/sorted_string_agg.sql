{#- The distinct-free text list of `measure` per group, in ascending order, joined by
    `delimiter_text` (a quoted SQL string, e.g. "', '"). dbt-spark's listagg ignores the
    order: Spark sorts the collected array instead (binary order, as Postgres' "C"
    collation of this project's database). -#}
{% macro sorted_string_agg(measure, delimiter_text) -%}
    {{ return(adapter.dispatch("sorted_string_agg")(measure, delimiter_text)) }}
{%- endmacro %}

{% macro default__sorted_string_agg(measure, delimiter_text) -%}
    {{ dbt.listagg(measure, delimiter_text, "order by " ~ measure) }}
{%- endmacro %}

{% macro spark__sorted_string_agg(measure, delimiter_text) -%}
    array_join(array_sort(collect_list({{ measure }})), {{ delimiter_text }})
{%- endmacro %}
