{#- A UTC timestamp column as the text Postgres gives a `timestamptz` in a UTC session
    ('2026-01-02 03:04:05.5+00'), on any engine: surrogate keys hashed from that text (e.g. a
    rejected record's) then agree between engines. Postgres: the column itself, as the key
    casts it to text already. -#}
{% macro timestamptz_text(column) -%}
    {{ return(adapter.dispatch("timestamptz_text")(column)) }}
{%- endmacro %}

{% macro default__timestamptz_text(column) -%}
    {{ dbt.concat([dbt.cast(column, dbt.type_string()), "'+00'"]) }}
{%- endmacro %}

{% macro postgres__timestamptz_text(column) -%}
    {{ column }}
{%- endmacro %}
