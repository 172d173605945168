{#- The days (`date_key`) an incremental daily aggregate rebuilds (doc block
    `incremental_aggregates`): the days of the fact rows written after the aggregate's
    newest `dbt_built_at` (the fact's batches since the aggregate last ran), as a subquery.
    Used by the model's filter and by its pre-hook, which first deletes those days, so that
    a day left without rows does not keep its old figures. -#}
{% macro touched_days(fact_relation) -%}
    select distinct touched_fact.date_key
    from {{ fact_relation }} as touched_fact
    where touched_fact.dbt_built_at > (
        select coalesce(max(aggregate_row.dbt_built_at), {{ dbt.cast("'0001-01-01'", dbt.type_timestamp()) }})
        from {{ this }} as aggregate_row
    )
{%- endmacro %}

{#- Pre-hook of an incremental daily aggregate: deletes the days touched_days() rebuilds.
    Nothing in a full build. -#}
{% macro delete_touched_days(fact_relation) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where date_key in ({{ touched_days(fact_relation) }})
    {%- endif -%}
{%- endmacro %}
