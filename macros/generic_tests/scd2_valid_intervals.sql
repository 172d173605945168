{#- Checks a slowly changing dimension (type 2) or a snapshot: per `key_column` (applied to a
    column, the column is the key), validity intervals [valid_from, valid_to) must not be
    inverted, must not overlap, and exactly one row must be current. A row is current when
    valid_to is null, or equals `current_valid_to` when the model closes the current row with a
    sentinel (e.g. "cast('9999-12-31' as timestamp)"). Keys whose history was closed on purpose
    (hard deletes) may have no current row when allow_keys_without_current_row=true.
    Returns one row per problem: the key, the problem and the offending valid_from. -#}
{% test scd2_valid_intervals(
    model,
    valid_from,
    valid_to,
    key_column=none,
    column_name=none,
    current_valid_to=none,
    allow_keys_without_current_row=false
) %}
    {%- set key = key_column if key_column is not none else column_name -%}
    {%- if key is none -%}
        {{ exceptions.raise_compiler_error(
            "scd2_valid_intervals on " ~ model ~ ": give key_column or apply the test to a column"
        ) }}
    {%- endif -%}
    {%- if current_valid_to is none -%}
        {%- set is_current = valid_to ~ " is null" -%}
    {%- else -%}
        {%- set is_current = "(" ~ valid_to ~ " is null or " ~ valid_to ~ " = "
            ~ current_valid_to ~ ")" -%}
    {%- endif -%}

with versions as (

    select
        {{ key }} as scd_key,
        {{ valid_from }} as scd_valid_from,
        {{ valid_to }} as scd_valid_to,
        case when {{ is_current }} then 1 else 0 end as is_current_version,
        lead({{ valid_from }}) over (
            partition by {{ key }}
            order by {{ valid_from }}, {{ valid_to }}
        ) as next_valid_from
    from {{ model }}

),

inverted_intervals as (

    select
        scd_key,
        'valid_to before valid_from' as problem,
        scd_valid_from
    from versions
    where is_current_version = 0
        and scd_valid_to < scd_valid_from

),

overlapping_intervals as (

    select
        scd_key,
        'overlaps the next version' as problem,
        scd_valid_from
    from versions
    where next_valid_from is not null
        and (is_current_version = 1 or next_valid_from < scd_valid_to)

),

current_version_counts as (

    select
        scd_key,
        sum(is_current_version) as current_versions,
        min(scd_valid_from) as first_valid_from
    from versions
    group by scd_key

),

wrong_current_version_counts as (

    select
        scd_key,
        case
            when current_versions = 0 then 'no current version'
            else 'more than one current version'
        end as problem,
        first_valid_from as scd_valid_from
    from current_version_counts
    where current_versions > 1
    {%- if not allow_keys_without_current_row %}
        or current_versions = 0
    {%- endif %}

)

select * from inverted_intervals
union all
select * from overlapping_intervals
union all
select * from wrong_current_version_counts

{% endtest %}
