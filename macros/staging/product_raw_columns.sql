{#- The raw product columns that product_attributes reads, for the import CTEs of the
    staging model and the product versions (both read the same raw row shape). -#}
{% macro product_raw_columns() -%}
    {%- set columns = [
        "id", "sku", "title", "brand", "category", "price", "currency", "stock", "is_deleted",
        "created_at",
    ] -%}
    {{ columns | join(",\n        ") }}
{%- endmacro %}
