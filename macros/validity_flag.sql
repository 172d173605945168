{#- Staging's `is_valid`: true when the row has no `invalid_reason`. Written as a CASE rather
    than `reason is null` on purpose: Postgres estimates `where is_valid` on a plain
    `is null` expression at 0.5% of the rows, and on stacked views that misestimate picks
    nested loops that re-run whole staging views per row (minutes instead of milliseconds).
    A CASE is estimated at 50%, which keeps hash joins. -#}
{% macro validity_flag(invalid_reason_column) -%}
    case when {{ invalid_reason_column }} is null then true else false end
{%- endmacro %}
