{#- Fails when `model` and `compare_model` hold different numbers of rows (after the test's
    `where` config, which filters `model` only). The failure count is the absolute difference
    in rows, so warn_if / error_if thresholds read as "more than N rows apart". -#}
{% test equal_row_count(model, compare_model) %}
    {{ config(fail_calc="coalesce(sum(row_count_difference), 0)") }}

with model_rows as (

    select count(*) as row_count
    from {{ model }}

),

compare_model_rows as (

    select count(*) as row_count
    from {{ compare_model }}

),

compared as (

    select
        model_rows.row_count as model_row_count,
        compare_model_rows.row_count as compare_model_row_count,
        abs(model_rows.row_count - compare_model_rows.row_count) as row_count_difference
    from model_rows
    cross join compare_model_rows

)

select *
from compared
where row_count_difference > 0

{% endtest %}
