{#- The cleaned customer attributes, written once for the staging model (raw rows) and the
    customer versions (snapshot rows): `relation` is the CTE or alias holding the raw columns. -#}
{% macro customer_attributes(relation) -%}
    cast({{ relation }}.customer_id as {{ dbt.type_bigint() }}) as customer_id,
    trim({{ relation }}.first_name) as first_name,
    trim({{ relation }}.last_name) as last_name,
    lower(trim({{ relation }}.email)) as email,
    nullif(trim({{ relation }}.phone), '') as phone,
    upper(trim({{ relation }}.country_code)) as country_code,
    trim({{ relation }}.city) as city,
    trim({{ relation }}.address) as address,
    {{ to_utc_timestamp(relation ~ ".registered_at") }} as registered_at
{%- endmacro %}
