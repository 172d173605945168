{#- A select keeping one row per key: the first by `order_by` (e.g. 'updated_at desc').
    The result carries an extra `version_rank` column (always 1); select past it.
    `<= 1` rather than `= 1`: Postgres turns it into a window run condition without
    shrinking its row estimate (an equality is guessed at 0.5% of the rows), so joins on
    stacked staging views keep sane plans. -#}
{% macro deduplicate_to_latest(relation, partition_by, order_by) -%}
    select ranked.*
    from (
        select
            {{ relation }}.*,
            row_number() over (
                partition by {{ partition_by }}
                order by {{ order_by }}
            ) as version_rank
        from {{ relation }}
    ) as ranked
    where ranked.version_rank <= 1
{%- endmacro %}
