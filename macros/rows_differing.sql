{#- A select of the rows that differ between two relations on the given columns, each
    labelled by the side it is found on (empty when they hold the same rows). Used by the
    singular tests that prove an incremental model equals its full recomputation. -#}
{% macro rows_differing(left_relation, right_relation, columns) -%}
with

left_rows as (

    select {{ columns | join(", ") }}
    from {{ left_relation }}

),

right_rows as (

    select {{ columns | join(", ") }}
    from {{ right_relation }}

),

only_left as (

    select * from left_rows
    {{ dbt.except() }}
    select * from right_rows

),

only_right as (

    select * from right_rows
    {{ dbt.except() }}
    select * from left_rows

),

final as (

    select
        'only in {{ left_relation.identifier }}' as difference,
        only_left.*
    from only_left
    union all
    select
        'only in {{ right_relation.identifier }}' as difference,
        only_right.*
    from only_right

)

select * from final
{%- endmacro %}
