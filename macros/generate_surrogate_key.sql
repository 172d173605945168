{#- A deterministic text key: the hash of the given columns (expressions), nulls made
    explicit so that (null, 'a') and ('', 'a') differ. Our own dbt_utils-style version. -#}
{% macro generate_surrogate_key(field_list) -%}
    {%- set fields = [] -%}
    {%- for field in field_list -%}
        {%- do fields.append(
            "coalesce(" ~ dbt.safe_cast(field, dbt.type_string()) ~ ", '_dbt_null_')"
        ) -%}
        {%- if not loop.last -%}{%- do fields.append("'|'") -%}{%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(fields)) }}
{%- endmacro %}
