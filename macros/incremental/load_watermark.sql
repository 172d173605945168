{#- The newest dlt load id an incremental staging model has taken in (its `load_id`
    column), as a scalar subquery. Load ids are unix seconds as text with ten integer
    digits until the year 2286, so text order is time order. -#}
{% macro load_watermark() -%}
    (select coalesce(max(watermark.load_id), '') from {{ this }} as watermark)
{%- endmacro %}
