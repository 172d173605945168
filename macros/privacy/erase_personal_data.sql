{#- Erasure hook on the history of a source whose rows are hard-deleted on an erasure
    request (doc block `erasure`): a snapshot's post-hook (history: the snapshot, `this`), or
    a model's pre-hook naming the history it reads (`history_relation`, e.g. the customers'
    change log read by stg_ops__customer_versions). For every key of the history that is gone
    from the source:
    1. blanks `raw_payload` of the source's `rejected_records` rows that carry one of the
       key's identifying values (`identifying_columns`, e.g. e-mail and phone);
    2. deletes the key's rows from dlt's staging copies (`<schema>_staging`) of the source
       and of the history, which keep the last loaded batch, tombstones included;
    3. nulls `personal_columns` in every history row of the key.
    Every other column stays as it is: history keeps its shape and past facts their version.
    An erased key is absent from the source, so later runs never bring its data back.
    It runs inside the node's transaction: when more keys vanish at once than
    `erasure_max_share` of the history's keys (an empty or half-loaded source), it raises,
    the node is rolled back and nothing is erased. -#}
{% macro erase_personal_data(
    source_relation, key, personal_columns, identifying_columns=[], history_relation=none
) %}
{%- if execute -%}
    {%- set history_table = history_relation if history_relation is not none else this -%}
    {%- set gone_from_source -%}
        not exists (
            select 1 from {{ source_relation }} as source_row
            where source_row.{{ key }} = history.{{ key }}
        )
    {%- endset -%}
    {%- set has_personal_data -%}
        ({% for column in personal_columns %}history.{{ column }} is not null
        {%- if not loop.last %} or {% endif %}{% endfor %})
    {%- endset -%}
    {#- a join, not `gone_from_source` in the filter: a correlated subquery per history row
        would scan the source once per row (hours at 100,000 customers) -#}
    {%- set counts = run_query(
        "select count(distinct history." ~ key ~ "), count(distinct history." ~ key
        ~ ") filter (where " ~ has_personal_data ~ " and source_key." ~ key ~ " is null)"
        ~ " from " ~ history_table ~ " as history left join (select distinct " ~ key
        ~ " from " ~ source_relation ~ ") as source_key on source_key." ~ key
        ~ " = history." ~ key
    ) -%}
    {%- set known_keys = counts.columns[0].values()[0] | int -%}
    {%- set newly_erased = counts.columns[1].values()[0] | int -%}
    {%- set allowed = [1, var("erasure_max_share") * known_keys] | max -%}
    {%- if newly_erased > allowed -%}
        {{ exceptions.raise_compiler_error(
            newly_erased ~ " of the " ~ known_keys ~ " keys of " ~ history_table
            ~ " vanished from " ~ source_relation ~ " at once (more than erasure_max_share = "
            ~ var("erasure_max_share") ~ "), so their history was not erased: check that "
            ~ "the last load of that table is complete; if the erasures are real, rerun "
            ~ "with --vars '{erasure_max_share: 1}'."
        ) }}
    {%- endif -%}
    {%- set rejected = adapter.get_relation(
        database=source_relation.database,
        schema=source_relation.schema,
        identifier="rejected_records",
    ) -%}
    {%- set staged_copies = [] -%}
    {%- for relation in [source_relation, history_table] -%}
        {%- set staged = adapter.get_relation(
            database=relation.database,
            schema=relation.schema ~ "_staging",
            identifier=relation.identifier,
        ) -%}
        {%- if staged is not none -%}
            {%- do staged_copies.append(staged) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if rejected is not none and identifying_columns %}
update {{ rejected }} as rejected
set raw_payload = null
where rejected.raw_payload is not null
    and exists (
        select 1
        from {{ history_table }} as history
        where {{ gone_from_source }}
            and ({% for column in identifying_columns -%}
                strpos(rejected.raw_payload, history.{{ column }}) > 0
                {%- if not loop.last %} or {% endif %}{% endfor %})
    );
    {%- endif %}
    {%- for staged in staged_copies %}
delete from {{ staged }} as history
where {{ gone_from_source }};
    {%- endfor %}
update {{ history_table }} as history
set
    {%- for column in personal_columns %}
    {{ column }} = null{% if not loop.last %},{% endif %}
    {%- endfor %}
where {{ has_personal_data }}
    and {{ gone_from_source }}
{%- endif -%}
{% endmacro %}
