{#- The keys (`keys`: the grain key, or the ids it is built from) of the facts an
    incremental fact merges again in an incremental run (doc block
    `incremental_facts`), from `keyed_relation`, the intermediate model that keys the facts
    to their dimension versions:
    - facts loaded after the newest one in the table (`loaded_at`);
    - facts still pointing at an unknown member;
    - facts whose dimension version may have changed: for each dimension of `dimensions`
      (dicts: `versions` relation, `column` joining facts to versions, `key` the fact's
      surrogate-key column), facts of the entities with versions loaded or closed after the
      newest fact, from the earliest such version's window start on (versions_changed_since).
    Each branch filters the keyed view by an indexed column; `= any(array(...))` rather than
    `in (...)`, so that Postgres looks the few keys up in the index instead of joining the
    whole view. -#}
{% macro facts_to_refresh(keyed_relation, keys, fact_timestamp, dimensions) -%}
    select {% for key in keys %}new_fact.{{ key }}{{ ', ' if not loop.last }}{% endfor %}
    from {{ keyed_relation }} as new_fact
    where new_fact.loaded_at > (select max(previous.loaded_at) from {{ this }} as previous)
    {%- for dimension in dimensions %}

    union

    select {% for key in keys %}unknown_member.{{ key }}{{ ', ' if not loop.last }}{% endfor %}
    from {{ this }} as unknown_member
    where
        unknown_member.{{ dimension.key }} = {{ unknown_member_key() }}
        {%- if dimension.get("known_when") %}
        and unknown_member.{{ dimension.known_when }}
        {%- endif %}

    union

    select {% for key in keys %}rekeyed.{{ key }}{{ ', ' if not loop.last }}{% endfor %}
    from {{ keyed_relation }} as rekeyed
    inner join (
        {{ versions_changed_since(dimension.versions, dimension.column) }}
    ) as changed
        on
            rekeyed.{{ dimension.column }} = changed.{{ dimension.column }}
            and rekeyed.{{ fact_timestamp }} >= changed.changed_from
    where rekeyed.{{ dimension.column }} = any(array(
        select changed_entity.{{ dimension.column }}
        from ({{ versions_changed_since(dimension.versions, dimension.column) }}) as changed_entity
    ))
    {%- endfor %}
{%- endmacro %}
