{#- The columns a model's YAML documents (its contract's columns for a mart), in that order,
    without `excluded`: for tests that compare a model column by column and should follow
    its contract. Empty while dbt parses (the graph is read when the test runs). -#}
{% macro documented_columns(model_name, excluded=[]) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set models = graph.nodes.values() | selectattr("resource_type", "equalto", "model")
        | selectattr("name", "equalto", model_name) | list -%}
    {%- if models | length != 1 -%}
        {{ exceptions.raise_compiler_error("documented_columns: no model " ~ model_name) }}
    {%- endif -%}
    {{ return(models[0].columns.keys() | reject("in", excluded) | list) }}
{%- endmacro %}
