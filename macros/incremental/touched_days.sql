{#- The days (`date_key`) an incremental daily aggregate rebuilds (doc block
    `incremental_aggregates`): the days of the fact rows loaded after the newest `loaded_at`
    the aggregate has seen, as a subquery. Keyed again facts keep their `loaded_at` and do
    not count: a daily aggregate reads none of their keys. Used by the model's filter and by
    its pre-hook, which first deletes those days, so that a day left without rows does not
    keep its old figures. -#}
{% macro touched_days(fact_relation) -%}
    select distinct touched_fact.date_key
    from {{ fact_relation }} as touched_fact
    where touched_fact.loaded_at > {{ newest_value("loaded_at", dbt.type_timestamp()) }}
{%- endmacro %}

{#- Pre-hook of an incremental daily aggregate: deletes the days touched_days() rebuilds.
    Nothing in a full build. -#}
{% macro delete_touched_days(fact_relation) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where date_key in ({{ touched_days(fact_relation) }})
    {%- endif -%}
{%- endmacro %}
