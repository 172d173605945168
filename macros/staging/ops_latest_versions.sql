{#- The CTE `deduplicated` of an ops staging model: the latest version of each key of the
    `renamed` CTE, by the source's update time and then dlt's load time. -#}
{% macro ops_latest_versions(key_column) -%}
deduplicated as (

    {{ deduplicate_to_latest("renamed", key_column, "updated_at desc, loaded_at desc") }}

)
{%- endmacro %}
