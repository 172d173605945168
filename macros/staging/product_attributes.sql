{#- The cleaned product attributes, written once for the staging model (raw rows) and the
    product versions (snapshot rows): `relation` is the CTE or alias holding the raw columns. -#}
{% macro product_attributes(relation) -%}
    cast({{ relation }}.id as {{ dbt.type_bigint() }}) as product_id,
    upper(trim({{ relation }}.sku)) as sku,
    trim({{ relation }}.title) as product_title,
    trim({{ relation }}.brand) as brand,
    trim({{ relation }}.category) as category,
    upper(trim({{ relation }}.currency)) as currency_code,
    cast({{ relation }}.price as {{ dbt.type_numeric() }}) as list_price,
    cast({{ relation }}.stock as {{ dbt.type_int() }}) as stock_quantity,
    coalesce(cast({{ relation }}.is_deleted as {{ dbt.type_boolean() }}), false) as is_deleted,
    {{ to_utc_timestamp(relation ~ ".created_at") }} as created_at
{%- endmacro %}
