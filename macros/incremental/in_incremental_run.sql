{#- A filter that applies only in an incremental run: `condition` then, `true` in a full
    build. Inline rather than an `{% if %}` block, so the SQL has one layout whichever way
    it renders (sqlfluff lints it both ways, depending on what the warehouse holds). -#}
{% macro in_incremental_run(condition) -%}
    {{ condition if is_incremental() else "true" }}
{%- endmacro %}
