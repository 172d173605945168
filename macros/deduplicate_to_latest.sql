{#- A select keeping one row per key: the first by `order_by` (e.g. 'updated_at desc').
    The result carries an extra `version_rank` column (always 1); select past it.
    `<= 1` rather than `= 1`: Postgres turns it into a window run condition without
    shrinking its row estimate (an equality is guessed at 0.5% of the rows), so joins on
    stacked staging views keep sane plans.
    Nulls sort as Postgres sorts them by default (first in a descending key, last in an
    ascending one), spelled out so that every engine keeps the same row (Spark's defaults
    are the opposite). -#}
{% macro deduplicate_to_latest(relation, partition_by, order_by) -%}
    {%- set keys = [] -%}
    {%- for key in order_by.split(",") | map("trim") -%}
        {%- if " nulls " in key.lower() -%}
            {%- do keys.append(key) -%}
        {%- else -%}
            {%- do keys.append(
                key ~ (" nulls first" if key.lower().endswith(" desc") else " nulls last")
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    select ranked.*
    from (
        select
            {{ relation }}.*,
            row_number() over (
                partition by {{ partition_by }}
                order by {{ keys | join(", ") }}
            ) as version_rank
        from {{ relation }}
    ) as ranked
    where ranked.version_rank <= 1
{%- endmacro %}
