{#- Post-hook of a customer feature table (doc block `feature_erasure`): deletes every row of
    a customer erased since the table was built. A full build leaves them out already; an
    incremental one writes only the rebuilt days, so the older rows of a customer erased
    since then are removed here, in the same run that erases their history. -#}
{% macro delete_erased_customer_features() -%}
    delete from {{ this }}
    where customer_id in (
        select erased.customer_id
        from {{ ref("int_customer_versions_windowed") }} as erased
        where erased.is_erased
    )
{%- endmacro %}
