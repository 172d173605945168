{#- The CTEs `unknown_member` and `final` of an SCD2 dimension (doc block `unknown_member`):
    the one row keyed unknown_member_key, with id -1 and an always-open validity window,
    appended to the dimension's `versions` CTE. `columns` are the row's other
    columns, in the order of `versions`' columns between the id and valid_from, each
    followed by a comma. -#}
{% macro unknown_member_union(key_column, id_column, columns) -%}
unknown_member as (

    select
        {{ unknown_member_key() }} as {{ key_column }},
        -1 as {{ id_column }},
        {{ columns | trim }}
        {{ dbt.cast("'1900-01-01 00:00:00'", dbt.type_timestamp()) }} as valid_from,
        cast(null as {{ dbt.type_timestamp() }}) as valid_to

),

final as (

    select * from versions
    union all
    select * from unknown_member

)
{%- endmacro %}
