{#- The first as-of day an incremental run of a feature table rebuilds (doc block
    `feature_as_of_rule`), as a date expression: the day after the newest one the table holds
    (a tick adds the new days), or earlier when a fact loaded since the table's last build
    happened earlier (a late file, a backfill): every as-of day after that fact reads it in
    a window, so those days are rebuilt too. `facts` lists (relation, time column) pairs,
    each relation with a `loaded_at` column. Renders nothing in a full build. -#}
{% macro features_rebuilt_from(facts) -%}
    {%- if is_incremental() -%}
        least(
            {{ newest_value("as_of_date", "date") }} + 1
            {%- for relation, time_column in facts %},
            (
                select cast(min(late_fact.{{ time_column }}) as date) + 1
                from {{ relation }} as late_fact
                where late_fact.loaded_at > {{ newest_value("dbt_built_at", dbt.type_timestamp()) }}
            )
            {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}
