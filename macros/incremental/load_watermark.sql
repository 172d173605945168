{#- The newest dlt load id an incremental staging model has taken in (the `load_id` of its
    newest `loaded_at`, through that column's index), read when the model runs and written
    as a text literal ('' when the table is empty, and at parse time): with a literal,
    Postgres estimates the raw rows past it from the statistics of `_dlt_load_id` and uses
    its index. Load ids are unix seconds as text with ten integer digits until the year
    2286, so text order is time order. -#}
{% macro load_watermark() -%}
    {%- set newest = none -%}
    {%- if execute -%}
        {%- set newest = run_query(
            "select load_id from " ~ this ~ " order by loaded_at desc limit 1"
        ).columns[0].values() -%}
    {%- endif -%}
    '{{ newest[0] if newest else "" }}'
{%- endmacro %}
