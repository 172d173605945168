{#- The raw customer columns that customer_attributes reads, for the import CTEs of the
    staging model and the customer versions (both read the same raw row shape). -#}
{% macro customer_raw_columns() -%}
    {%- set columns = [
        "customer_id", "first_name", "last_name", "email", "phone", "country_code", "city",
        "address", "registered_at",
    ] -%}
    {{ columns | join(",\n        ") }}
{%- endmacro %}
